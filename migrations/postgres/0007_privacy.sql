-- Privacy: forgotten customers (tombstones), merged-away customer ids (aliases), and the mark
-- that a feedback comment was removed (so the report's comment count stays the same).

-- One row per forgotten customer id, and one per id that had been merged into it. Only the
-- SHA-256 of the id is kept, never the id: a replayed `customer.upserted` (or `order.placed`)
-- naming it is recognised and has no effect. The records the law requires us to keep (consent
-- history, orders, complaint tickets) are filed under `pseudonym` now; `was_linked` keeps the
-- one fact the broadcast report needs about the messenger identities that were removed.
CREATE TABLE tombstones (
    id_hash      TEXT COLLATE "C" PRIMARY KEY,
    pseudonym    TEXT COLLATE "C" NOT NULL,
    was_linked   BIGINT NOT NULL,
    forgotten_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX tombstones_by_pseudonym ON tombstones (pseudonym);

-- `customer.merged {from, into}`: later events naming `alias` apply to `customer_id`.
CREATE TABLE customer_aliases (
    alias       TEXT COLLATE "C" PRIMARY KEY,
    customer_id TEXT COLLATE "C" NOT NULL,
    merged_at   TEXT COLLATE "C" NOT NULL
);
CREATE INDEX customer_aliases_by_customer ON customer_aliases (customer_id);

-- A comment removed by forgetting still counts as "a comment was left" in the report.
ALTER TABLE feedback ADD COLUMN comment_removed BIGINT NOT NULL DEFAULT 0;
