-- The address of a resumable upload of the file on the hub (tus), kept before its first byte is
-- sent, so a killed app carries on from the last chunk the hub confirmed. Cleared when the file
-- is done.
ALTER TABLE files ADD COLUMN upload_url TEXT;
