-- Edit locks lapse after a time without activity (Office::lock_idle): the holder's last save or
-- keep-alive. NULL means "since the lock was taken" (lock_since).
ALTER TABLE items ADD COLUMN lock_active_at TEXT;
