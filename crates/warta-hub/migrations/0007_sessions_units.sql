-- Sessions get an id of their own, so a session can be named (listed, revoked) without its
-- token or the token's hash ever leaving the hub.
CREATE TABLE sessions_new (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,        -- sha256 of the bearer token; the token itself is never stored
    user_id    INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO sessions_new (token_hash, user_id, created_at, expires_at, revoked)
    SELECT token_hash, user_id, created_at, expires_at, revoked FROM sessions ORDER BY rowid;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_user ON sessions(user_id, id);

-- The office's units (bidang, bagian). A user's `unit` names one of them (or is empty).
CREATE TABLE units (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at TEXT NOT NULL
);
-- Existing free-text units become rows; spellings differing only in case become one unit.
INSERT OR IGNORE INTO units (name, created_at)
    SELECT trim(unit), MIN(created_at) FROM users WHERE trim(unit) <> ''
    GROUP BY trim(unit) ORDER BY MIN(id);
UPDATE users SET unit = COALESCE((SELECT name FROM units WHERE name = trim(users.unit)), '');
