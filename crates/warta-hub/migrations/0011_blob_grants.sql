-- Who has shown they hold a blob's bytes: by uploading them (PUT /blobs, which hashes what it
-- receives), or by attaching a file the blob was made from. Asking whether the hub has a blob
-- (HEAD /blobs) and attaching blobs by digest (prepared photos) need a grant, so knowing a
-- file's SHA-256 is not enough to attach someone else's file and then download it.
CREATE TABLE blob_grants (
    sha256     TEXT NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    granted_at TEXT NOT NULL,
    PRIMARY KEY (sha256, user_id)
) WITHOUT ROWID;

-- What each user attached so far.
INSERT OR IGNORE INTO blob_grants (sha256, user_id, granted_at)
    SELECT sha256, uploaded_by, uploaded_at FROM attachments
    UNION SELECT web_sha256, uploaded_by, uploaded_at FROM attachments WHERE web_sha256 IS NOT NULL
    UNION SELECT thumb_sha256, uploaded_by, uploaded_at FROM attachments WHERE thumb_sha256 IS NOT NULL;
