CREATE TABLE t ([begin] INTEGER, `end` INTEGER, "case;" TEXT, c TEXT);
CREATE TRIGGER t_ins AFTER INSERT ON t
WHEN new.c IS NOT NULL AND (SELECT CASE WHEN new.begin > 0 THEN 1 END) = 1
BEGIN
    UPDATE t SET c = CASE new.c WHEN 'a' THEN 'b' ELSE 'c' END WHERE rowid = new.rowid;
    INSERT INTO log VALUES ('trigger; fired', new.end);
END;
create temp trigger if not exists t_del before delete on t begin
    select raise(abort, 'no; deleting') where old.begin = 1;
end;
CREATE TRIGGER t_upd AFTER UPDATE OF c ON t FOR EACH ROW BEGIN SELECT 1; END; SELECT 2;
SELECT [begin], `end`, "case;" FROM t WHERE c = :begin OR c = $end OR c = @case;
BEGIN IMMEDIATE;
INSERT INTO t (c) VALUES ('[not a bracket; just text]');
COMMIT;
