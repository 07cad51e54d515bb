

-- A comment before the first statement.
CREATE TABLE images (
    id VARCHAR(36) NOT NULL, -- the key; a UUID
    name VARCHAR(255) /* may be NULL; */ ,
    PRIMARY KEY (id)
);
INSERT INTO images VALUES ('a;b', 'it''s');  -- comment after the terminator
;;  ;
/* a block comment
   between statements; with semicolons */
UPDATE images SET name = "quoted "" identifier;" WHERE id = 'x'
    -- a comment inside, before the terminator
;
SELECT 1; SELECT 2 ; SELECT
3;

-- the last statement has no terminator
DELETE FROM images WHERE name = '
multi-line; string
'
