-- Feedback (ratings and comments), hand-off tickets, per-viewer conversation state, the last
-- messages a viewer wrote (for the ticket card) and FAQ answers given in rooms (to not flood).

CREATE TABLE feedback (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    subject      TEXT NOT NULL CHECK (subject IN ('broadcast', 'ticket')),
    subject_id   TEXT NOT NULL,
    broadcast_id TEXT,
    customer_id  TEXT NOT NULL,
    rating       INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment      TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (subject, subject_id, customer_id)
);
CREATE INDEX feedback_by_broadcast ON feedback (broadcast_id);

CREATE TABLE conversation_state (
    customer_id            TEXT PRIMARY KEY,
    awaiting_comment_for   INTEGER,
    awaiting_comment_until TEXT,
    faq_misses             INTEGER NOT NULL DEFAULT 0,
    updated_at             TEXT NOT NULL
);

CREATE TABLE tickets (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id           TEXT NOT NULL,
    platform              TEXT NOT NULL,
    reason                TEXT NOT NULL,
    broadcast_id          TEXT,
    opened_at             TEXT NOT NULL,
    first_response_at     TEXT,
    last_activity_at      TEXT NOT NULL,
    closed_at             TEXT,
    close_reason          TEXT,
    reminder_sent_at      TEXT,
    progress_note_sent_at TEXT
);
CREATE INDEX tickets_by_customer ON tickets (customer_id, closed_at);
CREATE INDEX tickets_open ON tickets (closed_at, first_response_at);

CREATE TABLE viewer_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id TEXT NOT NULL,
    text        TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX viewer_messages_by_customer ON viewer_messages (customer_id, id);

CREATE TABLE room_answers (
    platform    TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    entry_id    TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (platform, chat_id, entry_id)
);

CREATE INDEX outbox_by_platform_message ON outbox (platform, platform_message_id);
