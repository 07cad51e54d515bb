-- Images: one row per image, soft-deleted.
CREATE TABLE images (
    id VARCHAR(36) NOT NULL,
    name VARCHAR(255),
    size BIGINT,
    status VARCHAR(30) NOT NULL,
    is_public BOOLEAN NOT NULL,
    location TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    deleted_at TIMESTAMP,
    deleted BOOLEAN NOT NULL,
    PRIMARY KEY (id)
);

CREATE INDEX ix_images_is_public ON images (is_public);
CREATE INDEX ix_images_deleted ON images (deleted);
