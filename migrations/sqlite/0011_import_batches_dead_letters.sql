-- Import beside a running bot, and dead letters (issue #11).
--
-- `imports` / `import_rows`: `encore import orders` stages every checked row here in short
-- transactions, then applies them in batches of a few hundred rows, each batch one short
-- transaction that also deletes its staged rows and moves `applied_rows` on. A row in `imports`
-- is `staging` (the file is still being read and checked), `applying`, or `done`; a crash leaves
-- `staging` (nothing was applied: the rows are dropped at the next import) or `applying` (the
-- rest of the staged rows are applied by the next `encore import orders` before its own file).
CREATE TABLE imports (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    file          TEXT NOT NULL,
    notify        INTEGER NOT NULL,
    state         TEXT NOT NULL DEFAULT 'staging',
    rows          INTEGER NOT NULL DEFAULT 0,
    applied_rows  INTEGER NOT NULL DEFAULT 0,
    new_orders    INTEGER NOT NULL DEFAULT 0,
    updated_orders INTEGER NOT NULL DEFAULT 0,
    started_at    TEXT NOT NULL,
    finished_at   TEXT
);

CREATE TABLE import_rows (
    import_id INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    line      INTEGER NOT NULL,
    row       TEXT NOT NULL,
    PRIMARY KEY (import_id, line)
);

-- Platform updates whose handling failed every time, set aside so the next updates flow
-- (CONTRACT §1 `encore deadletters`, §12). `update_json` is the update as the router was handed
-- it, handed again on retry; a retried one keeps its row with `retried_at` set. (A message a
-- platform refused for good is its outbox row in state `failed`: no row here.)
CREATE TABLE dead_letters (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    platform   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    what       TEXT NOT NULL,
    update_json TEXT,
    why        TEXT NOT NULL,
    created_at TEXT NOT NULL,
    retried_at TEXT
);

CREATE INDEX dead_letters_waiting ON dead_letters (retried_at, id);
