-- Contract, once every node runs N: the triggers go, state becomes NOT NULL (the backfill
-- filled every row) and status is dropped. IF EXISTS, because the offline path
-- (db sync) never created the triggers. SQLite cannot add NOT NULL in place: the table is
-- rebuilt as in expand.
DROP TRIGGER IF EXISTS ratchet_v008_images_insert;
DROP TRIGGER IF EXISTS ratchet_v008_images_status;
DROP TRIGGER IF EXISTS ratchet_v008_images_state;
-- ratchet:lint-ignore RU302 the table rebuild that makes state NOT NULL, which SQLite cannot do in place
CREATE TABLE images_new (
    id VARCHAR(36) NOT NULL,
    name VARCHAR(255),
    size BIGINT,
    state VARCHAR(30) NOT NULL,
    is_public BOOLEAN NOT NULL,
    location TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    deleted_at TIMESTAMP,
    deleted BOOLEAN NOT NULL,
    visibility VARCHAR(9) NOT NULL DEFAULT 'private',
    PRIMARY KEY (id)
);
INSERT INTO images_new (id, name, size, state, is_public, location, created_at, updated_at, deleted_at, deleted, visibility)
SELECT id, name, size, state, is_public, location, created_at, updated_at, deleted_at, deleted, visibility FROM images;
DROP TABLE images;
ALTER TABLE images_new RENAME TO images;
CREATE INDEX ix_images_is_public ON images (is_public);
CREATE INDEX ix_images_deleted ON images (deleted);
CREATE INDEX ix_images_visibility ON images (visibility);
