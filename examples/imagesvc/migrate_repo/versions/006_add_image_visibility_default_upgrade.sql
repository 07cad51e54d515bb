-- Visibility replaces is_public: 'public', 'private' or 'shared'.
ALTER TABLE images ADD COLUMN visibility VARCHAR(9) NOT NULL DEFAULT 'private';

UPDATE images SET visibility = 'public' WHERE is_public = TRUE;
UPDATE images SET visibility = 'shared'
 WHERE is_public = FALSE
   AND EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = images.id AND m.deleted = FALSE);

CREATE INDEX ix_images_visibility ON images (visibility);
