-- images.status becomes images.state (rolling: N-1 writes status, N writes state).
-- Expand: the new column, nullable while rows are backfilled, and the old one relaxed,
-- since N never writes it. SQLite cannot drop NOT NULL in place, so the table is rebuilt
-- (SQLite's 12-step procedure; ratchet's connection leaves foreign_keys off, as SQLite
-- does by default, so the children's references to images follow the new table) and its
-- indexes created again.
CREATE TABLE images_new (
    id VARCHAR(36) NOT NULL,
    name VARCHAR(255),
    size BIGINT,
    status VARCHAR(30),
    state VARCHAR(30),
    is_public BOOLEAN NOT NULL,
    location TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    deleted_at TIMESTAMP,
    deleted BOOLEAN NOT NULL,
    visibility VARCHAR(9) NOT NULL DEFAULT 'private',
    PRIMARY KEY (id)
);
INSERT INTO images_new (id, name, size, status, is_public, location, created_at, updated_at, deleted_at, deleted, visibility)
SELECT id, name, size, status, is_public, location, created_at, updated_at, deleted_at, deleted, visibility FROM images;
DROP TABLE images;
ALTER TABLE images_new RENAME TO images;
CREATE INDEX ix_images_is_public ON images (is_public);
CREATE INDEX ix_images_deleted ON images (deleted);
CREATE INDEX ix_images_visibility ON images (visibility);

-- While N-1 and N share the database, triggers keep the two columns in step: an INSERT
-- fills whichever side is NULL from the other; an UPDATE copies status to state when status
-- changed (an N-1 write), else state to status (an N write). NEW is read-only in SQLite, so
-- they are AFTER triggers updating the row; the WHEN clauses skip writes that would change
-- nothing, so the triggers' own updates end the chain.
-- ratchet:online begin
CREATE TRIGGER ratchet_v008_images_insert AFTER INSERT ON images
  WHEN NEW.state IS NULL OR NEW.status IS NULL
BEGIN
  UPDATE images SET state = coalesce(NEW.state, NEW.status), status = coalesce(NEW.status, NEW.state)
   WHERE id = NEW.id;
END;
CREATE TRIGGER ratchet_v008_images_status AFTER UPDATE OF status ON images
  WHEN NEW.status IS NOT OLD.status AND NEW.state IS NOT NEW.status
BEGIN
  UPDATE images SET state = NEW.status WHERE id = NEW.id;
END;
CREATE TRIGGER ratchet_v008_images_state AFTER UPDATE OF state ON images
  WHEN NEW.state IS NOT OLD.state AND NEW.status IS OLD.status AND NEW.status IS NOT NEW.state
BEGIN
  UPDATE images SET status = NEW.state WHERE id = NEW.id;
END;
-- ratchet:online end
