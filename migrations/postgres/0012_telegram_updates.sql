-- Telegram webhook mode (CONTRACT §2 `telegram.mode`, §3 `POST /telegram/webhook`, §10).
--
-- Any process takes Telegram's POST and stores the update here once, by its `update_id`, before
-- answering 200; the process handling updates takes the unhandled ones in `update_id` order,
-- hands each to the router and sets `handled_at`. `body` is the update's JSON as Telegram sent
-- it; it is emptied when the update is handled (what the router needs is stored by then), and
-- handled rows go with `[retention] message_days`.
CREATE TABLE telegram_updates (
    update_id   BIGINT PRIMARY KEY,
    body        TEXT COLLATE "C" NOT NULL,
    received_at TEXT COLLATE "C" NOT NULL,
    handled_at  TEXT COLLATE "C"
);

CREATE INDEX telegram_updates_unhandled ON telegram_updates (handled_at, update_id);
