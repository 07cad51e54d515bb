CREATE TABLE public.t (id integer, name text);

COPY public.t (id, name) FROM stdin;
1	a; with a semicolon
2	\N
3	back\\slash
\.

-- after the data
SELECT 1;
copy public.t from STDIN;
\.
