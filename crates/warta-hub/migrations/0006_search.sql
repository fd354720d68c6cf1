-- Full-text search over items (title, summary, body, tags), kept in step with `items` by
-- triggers so that every way an item changes is indexed. unicode61 with diacritics removed:
-- Indonesian text is mostly unaccented, but names and imported text are not.
CREATE VIRTUAL TABLE items_fts USING fts5(
    title, summary, body, tags,
    content = 'items', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO items_fts (items_fts) VALUES ('rebuild');

CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts (rowid, title, summary, body, tags)
    VALUES (new.id, new.title, new.summary, new.body, new.tags);
END;
CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, summary, body, tags)
    VALUES ('delete', old.id, old.title, old.summary, old.body, old.tags);
END;
CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary, body, tags ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, summary, body, tags)
    VALUES ('delete', old.id, old.title, old.summary, old.body, old.tags);
    INSERT INTO items_fts (rowid, title, summary, body, tags)
    VALUES (new.id, new.title, new.summary, new.body, new.tags);
END;

-- Lists ordered by recency, and "mine", without sorting the whole table.
CREATE INDEX items_updated ON items(updated_at);
CREATE INDEX items_author ON items(author_id, updated_at);
CREATE INDEX items_published ON items(published_at) WHERE published_url IS NOT NULL;

-- Sign-in throttling counts failures per account and per address in a window. Partial
-- indexes: the other audit entries (almost all of them) never touch these.
CREATE INDEX audit_sign_ins ON audit(actor, seq) WHERE kind = 'auth.login';
CREATE INDEX audit_sign_in_failures ON audit(at) WHERE kind = 'auth.login_failed';
