-- Backslashes inside literals, comments and COPY data are not psql commands.
SELECT 'a
\connect in a string', $$
\set in a dollar quote
$$;
/*
\c in a comment
*/
SELECT E'\\' AS backslash;
COPY t (a, b) FROM stdin;
\N	one
2	\N
\.
SELECT 1;
  \connect other_database
SELECT 2;
