package dialect

import (
	"math"

	"github.com/ratchetdb/ratchet/sqlsplit"
)

// MySQL is MySQL and MariaDB through go-sql-driver/mysql (driver name "mysql"). DDL commits
// implicitly, so a version cannot be rolled back as a whole.
var MySQL = &Dialect{
	Name:             "mysql",
	Split:            sqlsplit.MySQL,
	TransactionalDDL: false,
	// ratchet's own DSN sets multiStatements=true and interpolateParams=true; a caller's
	// may not.
	MultiStatementProbe: "DO ?; DO ?",
	// DML; CALL and SET are left out: a procedure may run DDL, SET PASSWORD commits.
	RollbackableStatements: map[string]bool{
		"INSERT": true, "UPDATE": true, "DELETE": true, "REPLACE": true,
		"SELECT": true, "WITH": true, "DO": true,
	},
	CommittingStatements: map[string]bool{
		"CREATE": true, "ALTER": true, "DROP": true, "RENAME": true, "TRUNCATE": true,
	},
	MaxVersion: math.MaxInt32, // INTEGER is 32 bits here
	IdentQuote: '`',
	ListTables: `SELECT table_name FROM information_schema.tables
WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'
ORDER BY table_name`,
	CreateHistoryTable: `CREATE TABLE IF NOT EXISTS %s (
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
	SanityCheck: `SELECT table_name, table_collation FROM information_schema.tables
WHERE table_schema = DATABASE() AND table_collation NOT LIKE '%utf8%'
ORDER BY table_name`,
	CreateDatabase:      "CREATE DATABASE %s",
	UnknownDatabaseCode: "1049", // ER_BAD_DB_ERROR
	// GET_LOCK names are server-wide: the name includes the database, so that databases of
	// one server do not wait for each other (names are limited to 64 characters).
	Lock: &LockSQL{
		TryLock: "SELECT GET_LOCK(" + mysqlLockName + ", 0)",
		Unlock:  "SELECT RELEASE_LOCK(" + mysqlLockName + ")",
		Holder: `SELECT CONCAT('connection ', p.id, ' as ', p.user, ' from ', p.host,
	', running for ', p.time, 's')
FROM information_schema.processlist p WHERE p.id = IS_USED_LOCK(` + mysqlLockName + `)`,
	},
}

// mysqlLockName derives the lock name from the key parameter and the current database.
const mysqlLockName = "CONCAT('ratchet:', LEFT(SHA1(CONCAT(?, '/', DATABASE())), 32))"
