-- An item created with an `Idempotency-Key` (the reporter's outbox sends one per entry) records
-- it, so a create repeated after a lost answer returns the item made the first time instead of
-- a second one. Keys are per author.
ALTER TABLE items ADD COLUMN client_key TEXT;
CREATE UNIQUE INDEX items_client_key ON items (author_id, client_key) WHERE client_key IS NOT NULL;
