-- The import queue on the reporter's laptop: one row per job, one per file found in its folder.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL,
    -- Absolute path of the folder or card, as scanned.
    folder      TEXT NOT NULL,
    -- queued | running | done | failed | cancelled
    state       TEXT NOT NULL,
    bytes_sent  INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);

CREATE TABLE files (
    id            INTEGER PRIMARY KEY,
    job_id        INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    -- Relative to the job's folder, '/'-separated.
    path          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    -- Modification time when scanned, in nanoseconds since the epoch (0 when unknown).
    mtime_ns      INTEGER NOT NULL,
    -- Filled in when the file is hashed.
    sha256        TEXT,
    -- pending | done | skipped | failed
    state         TEXT NOT NULL DEFAULT 'pending',
    attachment_id INTEGER,
    -- Why it was skipped, or what went wrong.
    detail        TEXT,
    UNIQUE (job_id, path)
);

CREATE INDEX files_by_job_state ON files (job_id, state);
