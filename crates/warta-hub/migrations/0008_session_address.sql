-- Where a session signed in from (the client address the hub saw, or the one a trusted proxy
-- named), so that a user or an admin can tell sessions apart before ending one. NULL: unknown
-- (the CLI, sessions from before this column).
ALTER TABLE sessions ADD COLUMN address TEXT;
