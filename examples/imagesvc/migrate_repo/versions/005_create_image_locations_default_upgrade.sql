-- An image may be stored in several places; image_locations replaces images.location,
-- which a data migration moves over (the service's Go migration, version 7).
CREATE TABLE image_locations (
    image_id VARCHAR(36) NOT NULL,
    position INTEGER NOT NULL,
    url TEXT NOT NULL,
    meta_data TEXT,
    status VARCHAR(30) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    deleted BOOLEAN NOT NULL,
    PRIMARY KEY (image_id, position),
    FOREIGN KEY (image_id) REFERENCES images (id)
);

CREATE INDEX ix_image_locations_deleted ON image_locations (deleted);
