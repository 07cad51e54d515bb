-- Windows line endings around DELIMITER lines.
DELIMITER $$
CREATE PROCEDURE p()
BEGIN
  SELECT 1;
END$$
DELIMITER ;

CALL p();
