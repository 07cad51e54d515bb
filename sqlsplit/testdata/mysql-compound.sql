CREATE PROCEDURE p1(IN begin INT)
BEGIN
    DECLARE done INT DEFAULT FALSE;
    DECLARE c CURSOR FOR SELECT a FROM t;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = TRUE;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;
    outer_loop: LOOP
        FETCH c INTO begin;
        IF done THEN
            LEAVE outer_loop;
        ELSEIF begin > 10 THEN
            ITERATE outer_loop;
        ELSE
            BEGIN
                SELECT CASE WHEN begin > 5 THEN 'big' ELSE 'small' END;
            END;
        END IF;
    END LOOP outer_loop;
    WHILE begin > 0 DO
        SET begin = begin - 1;
    END WHILE;
    REPEAT
        SET @x = REPEAT('a', 3);
    UNTIL @x = 'aaa' END REPEAT;
    CASE begin
        WHEN 1 THEN SELECT 'one';
        ELSE BEGIN END;
    END CASE;
    IF (begin > 0) THEN SELECT IF(begin > 1, 'a', 'b'); END IF;
END;
CREATE DEFINER=`admin`@`%` FUNCTION f1(x INT) RETURNS INT DETERMINISTIC
    RETURN IF(x > 0, x, CASE WHEN x < -10 THEN -10 ELSE 0 END);
CREATE DEFINER = 'ro''ot'@localhost PROCEDURE IF NOT EXISTS p2() lbl: BEGIN SELECT 1; LEAVE lbl; END lbl;
CREATE TRIGGER t1 BEFORE INSERT ON t FOR EACH ROW SET NEW.begin = NEW.end;
CREATE TRIGGER t2 BEFORE UPDATE ON t FOR EACH ROW
IF NEW.a < 0 THEN
    SET NEW.a = 0;
END IF;
CREATE EVENT e1 ON SCHEDULE EVERY 1 HOUR DO
BEGIN
    DELETE FROM sessions WHERE expires < NOW();
END;
CREATE TABLE t2 (begin INT, end INT);
SELECT begin, end FROM t2 WHERE begin < end;
BEGIN;
COMMIT;
