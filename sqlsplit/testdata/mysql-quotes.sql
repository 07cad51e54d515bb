# A hash comment before the first statement.
INSERT INTO t VALUES ('it\'s; \\', "say \"hi\"; ok", 'doubled '' quote');
SELECT `weird``name;` FROM `t`; # a hash comment after the terminator
SELECT 1 --1;
SELECT 2 -- a comment; with a semicolon
;
SELECT 3 --	tab after the dashes is a comment too;
;
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!80031 ALTER TABLE `t` MODIFY `c` TEXT NOT NULL */;
SELECT a$b, $c FROM t /* a ; comment */ WHERE x = 1 # trailing
;
SELECT 4 --
