-- Events out (CONTRACT §3): what encore tells the shop at `shop.webhook_url`. A row is written
-- in the same transaction as the change it reports, so a crash loses none and a rolled-back
-- change sends none. `id` is the event's id in the body, the same on every retry (the shop
-- dedupes on it); `seq` keeps the order they were recorded in.
--
-- States: `pending` (waiting for `next_attempt_at`; a row being posted is leased by pushing
-- `next_attempt_at` forward) → `delivered` (the shop answered 2xx; the body is cleared, it
-- holds nothing the shop does not have) or `failed` (gave up after the last attempt).
CREATE TABLE events_out (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    type            TEXT NOT NULL,
    customer_id     TEXT,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    delivered_at    TEXT,
    last_error      TEXT
);

CREATE INDEX events_out_due ON events_out (state, next_attempt_at, seq);
CREATE INDEX events_out_customer ON events_out (customer_id);
