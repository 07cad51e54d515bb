-- Tags: a set of short strings per image.
CREATE TABLE image_tags (
    image_id VARCHAR(36) NOT NULL,
    value VARCHAR(255) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    deleted BOOLEAN NOT NULL,
    PRIMARY KEY (image_id, value),
    FOREIGN KEY (image_id) REFERENCES images (id)
);

CREATE INDEX ix_image_tags_value ON image_tags (value);
