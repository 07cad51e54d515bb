-- images.status becomes images.state (rolling: N-1 writes status, N writes state).
-- Expand: the new column, nullable while rows are backfilled, and the old one relaxed,
-- since N never writes it; in place, without blocking N-1's writes.
ALTER TABLE images ADD COLUMN state VARCHAR(30) NULL, MODIFY status VARCHAR(30) NULL,
  ALGORITHM=INPLACE, LOCK=NONE;

-- While N-1 and N share the database, triggers keep the two columns in step: an INSERT
-- fills whichever side is NULL from the other; an UPDATE copies status to state when status
-- changed (an N-1 write), else state to status (an N write). A MySQL trigger cannot update
-- its own table, so they are BEFORE triggers that set NEW.
-- ratchet:online begin
CREATE TRIGGER ratchet_v008_images_bi BEFORE INSERT ON images FOR EACH ROW
BEGIN
  IF NEW.state IS NULL THEN SET NEW.state = NEW.status;
  ELSEIF NEW.status IS NULL THEN SET NEW.status = NEW.state; END IF;
END;
CREATE TRIGGER ratchet_v008_images_bu BEFORE UPDATE ON images FOR EACH ROW
BEGIN
  IF NOT (NEW.status <=> OLD.status) THEN SET NEW.state = NEW.status;
  ELSEIF NOT (NEW.state <=> OLD.state) THEN SET NEW.status = NEW.state; END IF;
END;
-- ratchet:online end
