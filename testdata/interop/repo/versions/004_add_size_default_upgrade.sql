ALTER TABLE images ADD COLUMN size BIGINT;
-- The last statement has no semicolon.
INSERT INTO applied (version, dbms) VALUES (4, 'default')
