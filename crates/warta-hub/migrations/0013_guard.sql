-- The website guard (issue 6): watched pages of the office's websites, their checks, and the
-- incidents those raise.

-- The guard's settings of a website (publishing target).
CREATE TABLE guard_sites (
    target_id       INTEGER PRIMARY KEY REFERENCES publish_targets(id),
    public_url      TEXT NOT NULL,           -- the site's home page
    allowed_domains TEXT NOT NULL DEFAULT '[]', -- JSON array; the site's own host is always allowed
    allow_private   INTEGER NOT NULL DEFAULT 0, -- fetch from loopback/private addresses
    enabled         INTEGER NOT NULL DEFAULT 1,
    sitemap_next_at TEXT,                    -- when the sitemap is read next
    sitemap_known   INTEGER NOT NULL DEFAULT 0, -- 1 once the sitemap was read a first time
    expected_until  TEXT                     -- the office's own change window on the site
);

CREATE TABLE guard_pages (
    id              INTEGER PRIMARY KEY,
    target_id       INTEGER NOT NULL REFERENCES publish_targets(id),
    url             TEXT NOT NULL,
    source          TEXT NOT NULL,           -- home | section | published | sitemap
    item_id         INTEGER REFERENCES items(id),
    interval_secs   INTEGER NOT NULL,
    next_check_at   TEXT NOT NULL,
    noise           TEXT NOT NULL DEFAULT '[]', -- JSON array of regular expressions
    published_hash  TEXT,                    -- what the office published (guard store)
    baseline_hash   TEXT,                    -- the approved version (guard store)
    baseline_at     TEXT,
    baseline_by     TEXT,
    expected_until  TEXT,                    -- the office's own change window
    last_check_at   TEXT,
    last_status     INTEGER,
    last_hash       TEXT,                    -- the body of the last check (guard store)
    last_good_hash  TEXT,
    last_bad_hash   TEXT,
    last_findings   TEXT NOT NULL DEFAULT '[]',
    state           TEXT NOT NULL DEFAULT 'new', -- new | ok | alert | error
    created_at      TEXT NOT NULL,
    UNIQUE (target_id, url)
);
CREATE INDEX guard_pages_due ON guard_pages(next_check_at);
CREATE INDEX guard_pages_item ON guard_pages(item_id);

CREATE TABLE guard_checks (
    id          INTEGER PRIMARY KEY,
    page_id     INTEGER NOT NULL,
    at          TEXT NOT NULL,
    status      INTEGER,
    body_hash   TEXT,
    findings    TEXT NOT NULL,               -- JSON array of findings
    expected    INTEGER NOT NULL DEFAULT 0,
    incident_id INTEGER,
    elapsed_ms  INTEGER NOT NULL
);
CREATE INDEX guard_checks_page ON guard_checks(page_id, id);
CREATE INDEX guard_checks_at ON guard_checks(at);

-- One open incident per page at most; repeats are folded in (count, last_seen_at).
CREATE TABLE guard_incidents (
    id              INTEGER PRIMARY KEY,
    target_id       INTEGER NOT NULL,
    page_id         INTEGER NOT NULL,
    url             TEXT NOT NULL,
    kinds           TEXT NOT NULL,           -- JSON array, sorted
    state           TEXT NOT NULL,           -- open | resolved
    opened_at       TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    count           INTEGER NOT NULL,
    findings        TEXT NOT NULL,           -- JSON, the latest check's
    good_hash       TEXT,
    bad_hash        TEXT,
    crawler_hash    TEXT,
    diff            TEXT NOT NULL DEFAULT '[]',
    resolved_at     TEXT,
    resolved_by     TEXT,
    resolution_note TEXT
);
CREATE INDEX guard_incidents_page ON guard_incidents(page_id, state);
CREATE INDEX guard_incidents_state ON guard_incidents(state, id);
