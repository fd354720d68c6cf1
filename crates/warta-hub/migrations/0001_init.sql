-- Users and sessions.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles         TEXT NOT NULL,            -- comma-separated role ids
    unit          TEXT NOT NULL DEFAULT '',
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,            -- sha256 of the bearer token; the token itself is never stored
    user_id    INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
);

-- Publishing items (SOP-A). Current content is denormalised from the latest revision.
CREATE TABLE items (
    id              INTEGER PRIMARY KEY,
    sop             TEXT NOT NULL,
    title           TEXT NOT NULL,
    summary         TEXT NOT NULL,
    body            TEXT NOT NULL,
    category        TEXT NOT NULL,
    tags            TEXT NOT NULL,          -- JSON array
    unit            TEXT NOT NULL,
    author_id       INTEGER NOT NULL REFERENCES users(id),
    version         INTEGER NOT NULL,
    step            TEXT NOT NULL,
    step_entered_at TEXT NOT NULL,
    step_due_at     TEXT,
    lock_user_id    INTEGER REFERENCES users(id),
    lock_since      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    published_url   TEXT,
    published_at    TEXT,
    outcome_note    TEXT
);
CREATE INDEX items_step ON items(step, step_due_at);

CREATE TABLE revisions (
    item_id    INTEGER NOT NULL REFERENCES items(id),
    version    INTEGER NOT NULL,
    author_id  INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    title      TEXT NOT NULL,
    summary    TEXT NOT NULL,
    body       TEXT NOT NULL,
    category   TEXT NOT NULL,
    tags       TEXT NOT NULL,
    unit       TEXT NOT NULL,
    PRIMARY KEY (item_id, version)
);

-- One row per visit of a step: actual against standard time.
CREATE TABLE step_visits (
    id         INTEGER PRIMARY KEY,
    item_id    INTEGER NOT NULL REFERENCES items(id),
    step       TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    due_at     TEXT,
    left_at    TEXT
);
CREATE INDEX step_visits_item ON step_visits(item_id, id);

CREATE TABLE attachments (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES items(id),
    filename    TEXT NOT NULL,
    mime        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    uploaded_by INTEGER NOT NULL REFERENCES users(id),
    uploaded_at TEXT NOT NULL
);
CREATE INDEX attachments_item ON attachments(item_id);

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY,
    item_id    INTEGER NOT NULL REFERENCES items(id),
    author_id  INTEGER NOT NULL REFERENCES users(id),
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Append-only, hash-chained audit log: hash = sha256(prev_hash || canonical entry).
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor_id  INTEGER,
    actor     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    item_id   INTEGER,
    data      TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_item ON audit(item_id, seq);

CREATE TABLE holidays (
    date TEXT PRIMARY KEY,                  -- YYYY-MM-DD
    name TEXT NOT NULL
);
