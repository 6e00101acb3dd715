-- Community polls (`/poll`, `/pollclose`, CONTRACT §4). A poll is numbered 1, 2, 3 … (`#3` in
-- the staff chat); `options` is the JSON array of its options in order. `poll_posts` says where
-- it was posted: the room, the platform's message id and, for a Telegram native poll, the
-- platform's poll id its answers name. `poll_votes` keeps one vote a member (platform, voter),
-- changed in place; a retracted vote is deleted. Forgetting a customer pseudonymises the
-- voter of their accounts' votes, so results and report counts stay.
CREATE TABLE polls (
    id        INTEGER PRIMARY KEY,
    question  TEXT NOT NULL,
    options   TEXT NOT NULL,
    asked_on  TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX polls_by_opened ON polls (opened_at);
CREATE INDEX polls_by_closed ON polls (closed_at);

CREATE TABLE poll_posts (
    poll_id          INTEGER NOT NULL,
    platform         TEXT NOT NULL,
    chat_id          TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    platform_poll_id TEXT,
    posted_at        TEXT NOT NULL,
    PRIMARY KEY (poll_id, platform, chat_id)
);
CREATE UNIQUE INDEX poll_posts_by_platform_poll ON poll_posts (platform, platform_poll_id);

CREATE TABLE poll_votes (
    poll_id      INTEGER NOT NULL,
    platform     TEXT NOT NULL,
    voter_id     TEXT NOT NULL,
    option_index INTEGER NOT NULL,
    voted_at     TEXT NOT NULL,
    PRIMARY KEY (poll_id, platform, voter_id)
);
