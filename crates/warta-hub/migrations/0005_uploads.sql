-- Resumable uploads (tus 1.0 under /api/v1/uploads). The bytes received so far are in
-- data/uploads/<id>.part; `confirmed` is only raised after they were fsynced, so every offset the
-- hub acknowledged survives a crash. A finished upload keeps its row until it expires, so a
-- client that missed the last answer learns from HEAD that it is complete.
CREATE TABLE uploads (
    id           TEXT PRIMARY KEY,                -- 32 random hex digits
    user_id      INTEGER NOT NULL REFERENCES users(id),
    length       INTEGER NOT NULL,                -- Upload-Length, bytes
    confirmed    INTEGER NOT NULL DEFAULT 0,      -- Upload-Offset: bytes received and fsynced
    sha256       TEXT NOT NULL,                   -- the whole file's digest, declared at creation
    filename     TEXT NOT NULL,                   -- from Upload-Metadata, may be empty
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,                   -- moved forward by every confirmed chunk
    completed_at TEXT                             -- set once the whole file was verified and stored
);
CREATE INDEX uploads_by_user ON uploads(user_id, completed_at);
CREATE INDEX uploads_by_expiry ON uploads(expires_at);
