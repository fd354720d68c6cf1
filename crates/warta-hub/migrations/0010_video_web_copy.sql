-- Web copies of videos: a web-size MP4 the hub makes in the background after a video is
-- attached (when the office's media settings ask for it), stored content-addressed like every
-- other blob. `web_copy` is NULL (none), 'pending', 'ready' or 'failed'; a pending row is
-- picked up again when the hub starts, and `web_copy_attempts` bounds how often.
ALTER TABLE attachments ADD COLUMN web_copy TEXT;
ALTER TABLE attachments ADD COLUMN web_copy_sha256 TEXT;
ALTER TABLE attachments ADD COLUMN web_copy_size INTEGER;
ALTER TABLE attachments ADD COLUMN web_copy_height INTEGER;
ALTER TABLE attachments ADD COLUMN web_copy_error TEXT;
ALTER TABLE attachments ADD COLUMN web_copy_attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX attachments_web_copy_pending ON attachments (id) WHERE web_copy = 'pending';
