-- Publishing to real websites (issue: publishing exactly once).

-- Where approved items go. Secrets are never here: `secret_id` names the OS-keyring entry.
CREATE TABLE publish_targets (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,            -- static | wordpress | webhook | markdown
    config     TEXT NOT NULL,            -- JSON, non-secret settings (URL, user name, folder)
    secret_id  TEXT,                     -- keyring entry id, when the kind needs a secret
    enabled    INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
-- The hub's own site is target 1 and always there.
INSERT INTO publish_targets (id, name, kind, config, enabled, created_at)
VALUES (1, 'Situs lokal', 'static', '{}', 1, '1970-01-01T00:00:00Z');

-- One row per (item version, target, action): the queue. The idempotency key is written in the
-- same transaction that records the publisher's action, before any request leaves the hub.
CREATE TABLE publications (
    id              INTEGER PRIMARY KEY,
    item_id         INTEGER NOT NULL REFERENCES items(id),
    target_id       INTEGER NOT NULL REFERENCES publish_targets(id),
    version         INTEGER NOT NULL,
    action          TEXT NOT NULL,       -- publish | unpublish
    idempotency_key TEXT NOT NULL UNIQUE,
    state           TEXT NOT NULL,       -- pending | done | cancelled
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    last_error_kind TEXT,                -- unavailable | unauthorized | rejected | local
    requested_by    INTEGER NOT NULL REFERENCES users(id),
    created_at      TEXT NOT NULL,
    done_at         TEXT
);
CREATE INDEX publications_due ON publications(state, next_attempt_at);
CREATE INDEX publications_item ON publications(item_id);

-- Where each item is on each target (for updates after a correction, unpublishing, checks).
CREATE TABLE item_remotes (
    item_id      INTEGER NOT NULL REFERENCES items(id),
    target_id    INTEGER NOT NULL REFERENCES publish_targets(id),
    remote       TEXT NOT NULL,          -- JSON RemoteRef
    url          TEXT NOT NULL,
    version      INTEGER NOT NULL,
    published_at TEXT NOT NULL,
    live_checked_at TEXT,
    live_matches INTEGER,                -- 1 when the public page showed what we sent
    live_hash    TEXT,
    PRIMARY KEY (item_id, target_id)
);

-- When the official or publisher scheduled the item; NULL publishes at once.
ALTER TABLE items ADD COLUMN scheduled_at TEXT;
-- Alternative text and caption of a photo on the public site.
ALTER TABLE attachments ADD COLUMN alt_text TEXT NOT NULL DEFAULT '';
ALTER TABLE attachments ADD COLUMN caption TEXT NOT NULL DEFAULT '';
