-- ratchet:repeat
-- ratchet:pending SELECT 1 FROM images WHERE state IS NULL AND status IS NOT NULL
-- Backfills state from status, 500 rows per transaction, until no row is left; rows N-1
-- writes meanwhile are filled by the expand triggers. MySQL cannot LIMIT a subquery of
-- IN, so the UPDATE itself is limited.
UPDATE images SET state = status WHERE state IS NULL AND status IS NOT NULL LIMIT 500;
