-- images.status becomes images.state (rolling: N-1 writes status, N writes state).
-- Expand: the new column, nullable while rows are backfilled, and the old one relaxed,
-- since N never writes it.
ALTER TABLE images ADD COLUMN state VARCHAR(30);
ALTER TABLE images ALTER COLUMN status DROP NOT NULL;

-- While N-1 and N share the database, one trigger keeps the two columns in step: an INSERT
-- fills whichever side is NULL from the other; an UPDATE copies status to state when status
-- changed (an N-1 write), else state to status (an N write).
-- ratchet:online begin
CREATE FUNCTION ratchet_v008_images_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.state IS NULL THEN NEW.state := NEW.status;
    ELSIF NEW.status IS NULL THEN NEW.status := NEW.state; END IF;
  ELSIF NEW.status IS DISTINCT FROM OLD.status THEN NEW.state := NEW.status;
  ELSIF NEW.state IS DISTINCT FROM OLD.state THEN NEW.status := NEW.state;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER ratchet_v008_images_state BEFORE INSERT OR UPDATE ON images
  FOR EACH ROW EXECUTE PROCEDURE ratchet_v008_images_state();
-- ratchet:online end
