-- The host's dashboard (CONTRACT §3 `/dashboard`, §7): signed-in sessions.
--
-- The cookie carries a random session id; only its SHA-256 (hex) is stored, so a copy of the
-- database does not sign anyone in. Stored rather than kept in memory so that any worker of a
-- PostgreSQL cluster accepts a session another one started. Expired rows are removed at the
-- next sign-in.
CREATE TABLE dashboard_sessions (
    id_hash    TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);
