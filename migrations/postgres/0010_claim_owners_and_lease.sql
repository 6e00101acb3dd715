-- Claims with owners (issue #11): every claim names the instance that made it and a token, and
-- every change of state checks both, so a row another instance recovered is not written over.
-- `unknown_outcomes` counts sends whose answer never came (timeout or reset after the request
-- was written): the platform may or may not have the message.

ALTER TABLE outbox ADD COLUMN claim_owner TEXT COLLATE "C";
ALTER TABLE outbox ADD COLUMN claim_token TEXT COLLATE "C";
ALTER TABLE outbox ADD COLUMN unknown_outcomes BIGINT NOT NULL DEFAULT 0;

-- One row per running process that claims messages; `last_seen` is its heartbeat (wall clock).
-- Recovery touches only rows whose owner stopped beating.
CREATE TABLE instances (
    id          TEXT COLLATE "C" PRIMARY KEY,
    host        TEXT COLLATE "C" NOT NULL,
    pid         BIGINT NOT NULL,
    started_at  TEXT COLLATE "C" NOT NULL,
    last_seen   TEXT COLLATE "C" NOT NULL
);

-- The sender lease: one `encore serve` sends per database. `fence` grows by one at every change
-- of holder; a claim is made only while its maker still holds the lease with its fence.
CREATE TABLE sender_lease (
    name        TEXT COLLATE "C" PRIMARY KEY,
    holder      TEXT COLLATE "C" NOT NULL,
    host        TEXT COLLATE "C" NOT NULL,
    pid         BIGINT NOT NULL,
    since       TEXT COLLATE "C" NOT NULL,
    expires     TEXT COLLATE "C" NOT NULL,
    fence       BIGINT NOT NULL
);
