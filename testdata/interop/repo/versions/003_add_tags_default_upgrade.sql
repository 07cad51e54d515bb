-- Scripts of the legacy era often wrapped their body in BEGIN;/COMMIT;
-- both tools skip those lines and run the version in a transaction of their own.
BEGIN;
CREATE TABLE image_tags (
    image_id VARCHAR(36) NOT NULL,
    value VARCHAR(255) NOT NULL
);
INSERT INTO image_tags (image_id, value) VALUES ('img-1', 'gold');
COMMIT;
