-- Free-form key/value properties of an image.
CREATE TABLE image_properties (
    image_id VARCHAR(36) NOT NULL,
    name VARCHAR(255) NOT NULL,
    value TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    deleted_at TIMESTAMP,
    deleted BOOLEAN NOT NULL,
    PRIMARY KEY (image_id, name),
    FOREIGN KEY (image_id) REFERENCES images (id)
);

CREATE INDEX ix_image_properties_deleted ON image_properties (deleted);
