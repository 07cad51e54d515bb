package dialect

import (
	"math"

	"github.com/ratchetdb/ratchet/sqlsplit"
)

// mysqlSpec is MySQL and MariaDB through go-sql-driver/mysql (driver name "mysql"). DDL
// commits implicitly, so a version cannot be rolled back as a whole.
var mysqlSpec = spec{
	name:             "mysql",
	split:            sqlsplit.MySQL,
	transactionalDDL: false,
	// ratchet's own DSN sets multiStatements=true and interpolateParams=true; a caller's
	// may not.
	multiStatementProbe: "DO ?; DO ?",
	// DML; CALL and SET are left out: a procedure may run DDL, SET PASSWORD commits.
	rollbackable: map[string]bool{
		"INSERT": true, "UPDATE": true, "DELETE": true, "REPLACE": true,
		"SELECT": true, "WITH": true, "DO": true,
	},
	committing: map[string]bool{
		"CREATE": true, "ALTER": true, "DROP": true, "RENAME": true, "TRUNCATE": true,
	},
	// A journalled version's statements after a USE would run in another database, out of
	// reach of its journal.
	refused: map[string]string{
		"USE": "USE would run the rest of the version in another database, away from its journal; ratchet applies a version to the database it is given (remove the USE, or qualify the names)",
	},
	// mysqldump and mariadb-dump wrap each table's rows in LOCK TABLES … UNLOCK TABLES.
	// Tables locked so make every other table, the journal included, unusable until
	// UNLOCK; the migration lock already keeps other migrations out.
	skipped: map[string]string{
		"LOCK TABLES":   "ratchet journals the version in tables LOCK TABLES would lock it out of; its migration lock keeps other migrations out",
		"LOCK TABLE":    "ratchet journals the version in tables LOCK TABLES would lock it out of; its migration lock keeps other migrations out",
		"UNLOCK TABLES": "it goes with the LOCK TABLES ratchet skips",
		"UNLOCK TABLE":  "it goes with the LOCK TABLES ratchet skips",
	},
	maxVersion:    math.MaxInt32, // INTEGER is 32 bits here
	identQuote:    '`',
	maxIdent:      64,
	identInChars:  true,
	hexText:       "CONVERT(X'%x' USING utf8mb4)",
	beginWrite:    "START TRANSACTION",
	currentSchema: "SELECT DATABASE()",
	listTables: `SELECT table_name FROM information_schema.tables
WHERE table_schema = ? AND table_type = 'BASE TABLE'
ORDER BY table_name`,
	listTriggers: "SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = ?",
	historyDDL: `CREATE TABLE IF NOT EXISTS %s (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	repository_id VARCHAR(250) NOT NULL,
	version INTEGER NOT NULL,
	phase VARCHAR(16) NOT NULL,
	script VARCHAR(512) NOT NULL,
	checksum VARCHAR(100) NOT NULL,
	applied_at DATETIME(6) NOT NULL,
	duration_ms BIGINT NOT NULL,
	statements INTEGER NOT NULL,
	applied_by VARCHAR(255) NOT NULL
)`,
	sanityCheck: `SELECT table_name, table_collation FROM information_schema.tables
WHERE table_schema = ? AND table_collation NOT LIKE '%utf8%'
ORDER BY table_name`,
	createDB:    "CREATE DATABASE %s",
	unknownDB:   "1049",           // ER_BAD_DB_ERROR
	existsCodes: []string{"1007"}, // ER_DB_CREATE_EXISTS
	// GET_LOCK names are server-wide: the name includes the database, so that databases of
	// one server do not wait for each other (names are limited to 64 characters).
	// The metadata-lock wait of DDL, in whole seconds; ER_LOCK_WAIT_TIMEOUT: the statement did
	// not run.
	ddlWait: &DDLWaitSQL{Read: "SELECT @@SESSION.lock_wait_timeout", Set: "SET SESSION lock_wait_timeout = %d",
		Restore: "SET SESSION lock_wait_timeout = %s", Seconds: true, Codes: []string{"1205"}},
	lock: &LockSQL{
		TryLock: "SELECT GET_LOCK(" + mysqlLockName + ", 0), CONNECTION_ID()",
		Session: "SELECT CONNECTION_ID()",
		Unlock:  "SELECT RELEASE_LOCK(" + mysqlLockName + ")",
		Holder: `SELECT CONCAT('connection ', p.id, ' as ', p.user, ' from ', p.host,
	', running for ', p.time, 's')
FROM information_schema.processlist p WHERE p.id = IS_USED_LOCK(` + mysqlLockName + `)`,
	},
	// UTC_TIMESTAMP, not NOW(): the session's time zone must not move an expiry.
	lease: &LeaseSQL{
		Create: `CREATE TABLE IF NOT EXISTS {table} (
	repository_id VARCHAR(250) NOT NULL PRIMARY KEY,
	holder VARCHAR(64) NOT NULL,
	host VARCHAR(255) NOT NULL,
	pid BIGINT NOT NULL,
	acquired DATETIME(6) NOT NULL,
	expires DATETIME(6) NOT NULL
)`,
		Insert: `INSERT IGNORE INTO {table} (repository_id, holder, host, pid, acquired, expires)
VALUES (?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND)`,
		TakeOver: `UPDATE {table} SET holder = ?, host = ?, pid = ?, acquired = UTC_TIMESTAMP(6),
	expires = UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND
WHERE repository_id = ? AND expires < UTC_TIMESTAMP(6)`,
		Renew:   "UPDATE {table} SET expires = UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND WHERE repository_id = ? AND holder = ?",
		Release: "DELETE FROM {table} WHERE repository_id = ? AND holder = ?",
		Holder: `SELECT host, pid, DATE_FORMAT(acquired, '%Y-%m-%d %H:%i:%s'),
	TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), expires)
FROM {table} WHERE repository_id = ?`,
	},
	clusterProbe:  "SHOW VARIABLES LIKE 'wsrep_on'",
	schemaUpgrade: "SHOW VARIABLES LIKE 'wsrep_OSU_method'",
	causalReads:   &SettingSQL{Read: "SELECT @@SESSION.wsrep_sync_wait", Set: "SET SESSION wsrep_sync_wait = %d", Value: 7},
}

// mysqlLockName derives the lock name from the key parameter and the current database.
const mysqlLockName = "CONCAT('ratchet:', LEFT(SHA1(CONCAT(?, '/', DATABASE())), 32))"
