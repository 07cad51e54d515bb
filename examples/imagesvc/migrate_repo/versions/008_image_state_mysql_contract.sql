-- Contract, once every node runs N: the triggers go, state becomes NOT NULL (the backfill
-- filled every row) and status is dropped. IF EXISTS, because the offline path
-- (db sync) never created the triggers.
DROP TRIGGER IF EXISTS ratchet_v008_images_bi;
DROP TRIGGER IF EXISTS ratchet_v008_images_bu;
ALTER TABLE images MODIFY state VARCHAR(30) NOT NULL, DROP COLUMN status,
  ALGORITHM=INPLACE, LOCK=NONE;
