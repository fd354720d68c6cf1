-- Backups of the office's websites' content, restores and their proof (SOP-C steps 3 and 4).

-- One backup of one website; its manifest is site-backups/manifests/<id>.json, whose SHA-256 is
-- kept here. Only a `verified` backup (read back completely) may be restored from.
CREATE TABLE site_backups (
    id              INTEGER PRIMARY KEY,
    target_id       INTEGER NOT NULL REFERENCES publish_targets(id),
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    state           TEXT NOT NULL,           -- running | verified | failed | pruned
    trigger         TEXT NOT NULL,           -- schedule | manual | cli
    requested_by    INTEGER REFERENCES users(id),
    manifest_sha256 TEXT,
    objects         INTEGER NOT NULL DEFAULT 0,
    bytes           INTEGER NOT NULL DEFAULT 0,
    new_blobs       INTEGER NOT NULL DEFAULT 0,
    new_bytes       INTEGER NOT NULL DEFAULT 0,
    error           TEXT
);
CREATE INDEX site_backups_target ON site_backups(target_id, id);

-- A restore and its evidence: the guard's checks of the restored pages before and after.
-- `incident_id` links it to a guard incident when the restore answers one.
CREATE TABLE site_restores (
    id           INTEGER PRIMARY KEY,
    target_id    INTEGER NOT NULL REFERENCES publish_targets(id),
    backup_id    INTEGER REFERENCES site_backups(id),
    item_id      INTEGER REFERENCES items(id),
    scope        TEXT NOT NULL,               -- all | object | published
    object_key   TEXT,
    reason       TEXT NOT NULL,
    requested_by INTEGER NOT NULL REFERENCES users(id),
    started_at   TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    state        TEXT NOT NULL,               -- done | partial | failed
    normal       INTEGER NOT NULL,            -- 1: restored and the checks after found nothing
    actions      TEXT NOT NULL,               -- JSON [SiteRestoreAction]
    before       TEXT NOT NULL,               -- JSON [SitePageCheck]
    after        TEXT NOT NULL,
    error        TEXT,
    incident_id  INTEGER
);
CREATE INDEX site_restores_target ON site_restores(target_id, id);
CREATE INDEX site_restores_incident ON site_restores(incident_id);
