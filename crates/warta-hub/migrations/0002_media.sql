-- Renditions and media facts of attachments (issue: media ingest).
ALTER TABLE attachments ADD COLUMN web_sha256 TEXT;       -- photo web rendition
ALTER TABLE attachments ADD COLUMN web_mime TEXT;
ALTER TABLE attachments ADD COLUMN thumb_sha256 TEXT;     -- photo thumbnail, PDF first page, video poster
ALTER TABLE attachments ADD COLUMN thumb_mime TEXT;
ALTER TABLE attachments ADD COLUMN width INTEGER;
ALTER TABLE attachments ADD COLUMN height INTEGER;
ALTER TABLE attachments ADD COLUMN pages INTEGER;
ALTER TABLE attachments ADD COLUMN duration_ms INTEGER;
ALTER TABLE attachments ADD COLUMN codecs TEXT;
ALTER TABLE attachments ADD COLUMN phash TEXT;            -- 16 hex digits
ALTER TABLE attachments ADD COLUMN original_kept INTEGER NOT NULL DEFAULT 1;
ALTER TABLE attachments ADD COLUMN note TEXT;
CREATE INDEX attachments_phash ON attachments(phash) WHERE phash IS NOT NULL;

-- Office-wide settings, one JSON value per key.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Near-duplicate found when the photo was attached.
ALTER TABLE attachments ADD COLUMN similar_to INTEGER REFERENCES attachments(id);
ALTER TABLE attachments ADD COLUMN similar_distance INTEGER;
