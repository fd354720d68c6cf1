-- The reporter's outbox: items written on this laptop that the office's hub does not have yet
-- (or has, for a while after, as "received").
CREATE TABLE entries (
    id          INTEGER PRIMARY KEY,
    -- Sent as the Idempotency-Key of the create, so a repeat after a lost answer makes no copy.
    key         TEXT NOT NULL UNIQUE,
    -- The ItemContent, as JSON.
    content     TEXT NOT NULL,
    -- 1: submit to the editor once created.
    submit      INTEGER NOT NULL,
    -- waiting | sending | received | failed
    state       TEXT NOT NULL DEFAULT 'waiting',
    -- The hub's item, once created.
    item_id     INTEGER,
    -- 1 once the files are queued for upload (their jobs are in entry_jobs).
    files_queued INTEGER NOT NULL DEFAULT 0,
    submitted   INTEGER NOT NULL DEFAULT 0,
    -- Why it waits or failed: an OutboxProblem, as JSON.
    problem     TEXT,
    created_at  TEXT NOT NULL,
    received_at TEXT
);

CREATE TABLE entry_files (
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    path     TEXT NOT NULL,
    size     INTEGER NOT NULL,
    PRIMARY KEY (entry_id, path)
);

-- The upload jobs (in the outbox's own import queue) that carry an entry's files.
CREATE TABLE entry_jobs (
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    job_id   INTEGER NOT NULL,
    PRIMARY KEY (entry_id, job_id)
);
