-- The foundation: customers and their messenger identities, consent, broadcasts, orders,
-- events (idempotency by event id), processed platform updates and the outbox.
-- Timestamps are UTC text in one fixed format (see store::ts), so they compare as text on
-- every backend. SQL is kept portable for the PostgreSQL migrations that follow.

CREATE TABLE customers (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    locale        TEXT,
    lang_override TEXT,
    birthday      TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE identities (
    platform       TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    customer_id    TEXT NOT NULL REFERENCES customers(id),
    chat_id        TEXT NOT NULL,
    display_name   TEXT,
    platform_lang  TEXT,
    unreachable_at TEXT,
    last_seen_at   TEXT NOT NULL,
    linked_at      TEXT NOT NULL,
    PRIMARY KEY (platform, user_id),
    UNIQUE (customer_id, platform)
);

CREATE TABLE link_tokens (
    token       TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);

CREATE TABLE consents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id TEXT NOT NULL,
    purpose     TEXT NOT NULL CHECK (purpose IN ('marketing', 'night')),
    granted     BOOLEAN NOT NULL,
    given_at    TEXT NOT NULL,
    source      TEXT NOT NULL,
    wording     TEXT NOT NULL,
    method      TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX consents_by_customer ON consents (customer_id, purpose, given_at);

CREATE TABLE broadcasts (
    id         TEXT PRIMARY KEY,
    title      TEXT,
    starts_at  TEXT,
    url        TEXT,
    started_at TEXT,
    ended_at   TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE orders (
    id               TEXT PRIMARY KEY,
    customer_id      TEXT NOT NULL REFERENCES customers(id),
    broadcast_id     TEXT,
    total            BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    placed_at        TEXT NOT NULL,
    status           TEXT NOT NULL,
    status_at        TEXT NOT NULL,
    tracking_carrier TEXT,
    tracking_number  TEXT,
    tracking_url     TEXT,
    delay_reason     TEXT,
    delay_eta        TEXT,
    payment_deadline TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX orders_by_broadcast ON orders (broadcast_id, customer_id);
CREATE INDEX orders_by_customer ON orders (customer_id);

CREATE TABLE order_items (
    order_id   TEXT NOT NULL REFERENCES orders(id),
    position   INTEGER NOT NULL,
    sku        TEXT NOT NULL,
    name       TEXT NOT NULL,
    category   TEXT,
    quantity   BIGINT NOT NULL,
    unit_price BIGINT NOT NULL,
    PRIMARY KEY (order_id, position)
);

CREATE TABLE order_status_history (
    order_id    TEXT NOT NULL,
    status      TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    applied     BOOLEAN NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX order_status_history_by_order ON order_status_history (order_id);

CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    body_hash   TEXT NOT NULL,
    payload     TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('applied', 'pending', 'expired')),
    waiting_for TEXT,
    applied_at  TEXT
);
CREATE INDEX events_waiting ON events (state, waiting_for);

CREATE TABLE processed_updates (
    platform     TEXT NOT NULL,
    update_id    TEXT NOT NULL,
    processed_at TEXT NOT NULL,
    PRIMARY KEY (platform, update_id)
);

CREATE TABLE outbox (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    idem_key            TEXT NOT NULL UNIQUE,
    recipient           TEXT NOT NULL,
    customer_id         TEXT,
    target_platform     TEXT,
    target_chat         TEXT,
    flow                TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('transactional', 'advertising')),
    lane                INTEGER NOT NULL,
    payload             TEXT NOT NULL,
    broadcast_id        TEXT,
    state               TEXT NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    not_before          TEXT NOT NULL,
    sent_at             TEXT,
    platform            TEXT,
    platform_message_id TEXT,
    last_error          TEXT,
    created_at          TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, lane, id);
CREATE INDEX outbox_by_recipient ON outbox (recipient, id);
CREATE INDEX outbox_by_broadcast ON outbox (broadcast_id, flow, state);

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
