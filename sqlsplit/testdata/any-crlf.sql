-- A script with CRLF line endings.
CREATE TABLE t (
    id INTEGER -- key
);

INSERT INTO t VALUES (1);
/* comment
   block */ INSERT INTO t
  VALUES (2);
