-- Projects an image is shared with.
CREATE TABLE image_members (
    image_id VARCHAR(36) NOT NULL,
    member VARCHAR(255) NOT NULL,
    can_share BOOLEAN NOT NULL,
    status VARCHAR(20) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    deleted_at TIMESTAMP,
    deleted BOOLEAN NOT NULL,
    PRIMARY KEY (image_id, member),
    FOREIGN KEY (image_id) REFERENCES images (id)
);

CREATE INDEX ix_image_members_member ON image_members (member);
