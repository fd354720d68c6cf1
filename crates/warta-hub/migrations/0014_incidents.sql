-- Incidents (issue 7): SOP-D (network security) and SOP-B (website security) run from their
-- definitions, the users holding each SOP's roles, and each incident's step history.

-- Who holds the roles of an SOP other than SOP-A (whose roles are the users' office roles).
CREATE TABLE sop_roles (
    sop     TEXT NOT NULL,                   -- sop-b | sop-d
    role    TEXT NOT NULL,                   -- a role id of that SOP's definition
    user_id INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (sop, role, user_id)
) WITHOUT ROWID;
CREATE INDEX sop_roles_user ON sop_roles(user_id);

CREATE TABLE incidents (
    id                INTEGER PRIMARY KEY,
    sop               TEXT NOT NULL,
    title             TEXT NOT NULL,
    description       TEXT NOT NULL,
    source            TEXT NOT NULL,         -- form | guard
    guard_incident_id INTEGER UNIQUE REFERENCES guard_incidents(id),
    reported_by       INTEGER REFERENCES users(id), -- NULL: opened by the website guard
    step              TEXT NOT NULL,         -- current step of the SOP
    step_entered_at   TEXT NOT NULL,
    step_due_at       TEXT,
    loops             INTEGER NOT NULL DEFAULT 0, -- times the work was sent back (verify -> resolve)
    state             TEXT NOT NULL,         -- open | closed (a final step)
    assignee_id       INTEGER REFERENCES users(id), -- named by the last action that names one
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    closed_at         TEXT
);
CREATE INDEX incidents_state ON incidents(state, sop, id);

-- One row per visit of a step, in order: when it was entered, its due time in the SOP's
-- calendar, when it was left, and the action that left it (who, which, the note and the
-- payload: assignee and instruction as JSON). The open visit has left_at NULL.
CREATE TABLE incident_steps (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    step        TEXT NOT NULL,
    entered_at  TEXT NOT NULL,
    due_at      TEXT,
    left_at     TEXT,
    actor_id    INTEGER REFERENCES users(id),
    action      TEXT,
    note        TEXT,
    payload     TEXT NOT NULL DEFAULT '{}',
    overdue_at  TEXT                         -- when the overdue notice was given (once)
);
CREATE INDEX incident_steps_incident ON incident_steps(incident_id, id);
-- Open visits not yet announced as overdue, by due time (the overdue sweep).
CREATE INDEX incident_steps_waiting ON incident_steps(due_at)
    WHERE left_at IS NULL AND overdue_at IS NULL AND due_at IS NOT NULL;

CREATE TABLE incident_comments (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    author_id   INTEGER NOT NULL REFERENCES users(id),
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX incident_comments_incident ON incident_comments(incident_id, id);

-- Evidence: files in the blob store (upload) or page versions the website guard keeps in
-- <data>/guard (guard), both named by SHA-256.
CREATE TABLE incident_evidence (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    source      TEXT NOT NULL,               -- upload | guard
    sha256      TEXT NOT NULL,
    filename    TEXT NOT NULL,
    size        INTEGER NOT NULL,
    label       TEXT NOT NULL DEFAULT '',    -- guard: good | bad | crawler
    added_by    INTEGER REFERENCES users(id),
    added_at    TEXT NOT NULL,
    UNIQUE (incident_id, source, sha256)
);

-- Which audit entries are about which incident (the timeline and the change feed read it).
CREATE TABLE incident_audit (
    seq         INTEGER PRIMARY KEY,         -- audit.seq
    incident_id INTEGER NOT NULL
);
CREATE INDEX incident_audit_incident ON incident_audit(incident_id, seq);
