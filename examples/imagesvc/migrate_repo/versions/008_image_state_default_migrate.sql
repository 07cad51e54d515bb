-- ratchet:repeat
-- ratchet:pending SELECT 1 FROM images WHERE state IS NULL AND status IS NOT NULL
-- Backfills state from status, 500 rows per transaction, until no row is left; rows N-1
-- writes meanwhile are filled by the expand triggers. A row with neither is never picked,
-- so the loop ends.
UPDATE images SET state = status
 WHERE id IN (SELECT id FROM images WHERE state IS NULL AND status IS NOT NULL LIMIT 500);
