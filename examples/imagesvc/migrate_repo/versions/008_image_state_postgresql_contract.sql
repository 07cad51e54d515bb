-- Contract, once every node runs N: the triggers go, state becomes NOT NULL (the backfill
-- filled every row) and status is dropped. IF EXISTS, because the offline path
-- (db sync) never created the triggers.
DROP TRIGGER IF EXISTS ratchet_v008_images_state ON images;
DROP FUNCTION IF EXISTS ratchet_v008_images_state();
ALTER TABLE images ALTER COLUMN state SET NOT NULL;
ALTER TABLE images DROP COLUMN status;
