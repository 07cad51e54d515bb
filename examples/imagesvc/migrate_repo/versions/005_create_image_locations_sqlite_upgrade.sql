-- SQLite version of 005: the same table, with a partial index over live rows only
-- (SQLite and PostgreSQL have partial indexes, MySQL does not, so the default script
-- indexes the whole column).
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

CREATE INDEX ix_image_locations_live ON image_locations (image_id) WHERE deleted = 0;
