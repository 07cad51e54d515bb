-- MariaDB executable comments, as mariadb-dump writes them: the server runs them when its
-- version is at least the number, so they are statement text, like /*! … */.
/*M!999999\- enable the sandbox mode */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE */;
/*M!100100 SET NAMES utf8mb4 */;
/*M! SET @x = 1 */;
CREATE TABLE t (id INT) /*M!100100 PAGE_CHECKSUM=1 */;
/* a plain comment; dropped */
/*M!100108 CREATE*/ /*M!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER tr BEFORE INSERT ON t FOR EACH ROW
BEGIN
  SET NEW.id = NEW.id + 1;
END */;
SELECT /*M!100100 1 + */ 1;
