CREATE FUNCTION inc(i integer) RETURNS integer AS $$
BEGIN
    RETURN i + 1; -- ; inside the body
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION tagged() RETURNS text AS $body$
    SELECT $$nested; quote$$ || $x$another;$x$;
$body$ LANGUAGE sql;
SELECT $1, $2 FROM t WHERE a$b = 1;
SELECT $ünïcödé$ text; here $ünïcödé$;
DO $do$DECLARE r record; BEGIN NULL; END$do$;
SELECT 'a $$ inside a string;', "a $$ identifier";
SELECT $$ it's dollar-quoted; not a string $$
