package dialect

import (
	"math"

	"github.com/ratchetdb/ratchet/sqlsplit"
)

// Postgres is PostgreSQL through pgx's database/sql adapter (driver name "pgx"). DDL is
// transactional, so every version is applied atomically with its bookkeeping.
var Postgres = &Dialect{
	Name:             "postgresql",
	Split:            sqlsplit.PostgreSQL,
	TransactionalDDL: true,
	// The simple query protocol (pgx uses it for queries without arguments) and SQLite's
	// exec both run several statements.
	MultiStatementExec: true,
	NumberedParams:     true,
	MaxVersion:         math.MaxInt32, // INTEGER is 32 bits here
	IdentQuote:         '"',
	ListTables: `SELECT table_name FROM information_schema.tables
WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
ORDER BY table_name`,
	CreateHistoryTable: `CREATE TABLE IF NOT EXISTS %s (
	id BIGSERIAL PRIMARY KEY,
	repository_id VARCHAR(250) NOT NULL,
	version INTEGER NOT NULL,
	phase VARCHAR(16) NOT NULL,
	script VARCHAR(512) NOT NULL,
	checksum VARCHAR(100) NOT NULL,
	applied_at TIMESTAMP NOT NULL,
	duration_ms BIGINT NOT NULL,
	statements INTEGER NOT NULL,
	applied_by VARCHAR(255) NOT NULL
)`,
	MaintenanceDatabase: "postgres",
	CreateDatabase:      "CREATE DATABASE %s",
	UnknownDatabaseCode: "3D000", // invalid_catalog_name
	Lock: &LockSQL{
		TryLock:    "SELECT pg_try_advisory_lock($1)",
		Unlock:     "SELECT pg_advisory_unlock($1)",
		NumericKey: true,
		// A bigint advisory lock shows in pg_locks as classid (high half), objid (low half).
		Holder: `SELECT 'pid ' || a.pid || COALESCE(' (' || NULLIF(a.application_name, '') || ')', '') ||
	' as ' || COALESCE(a.usename, '?') || COALESCE(' from ' || host(a.client_addr), '') ||
	', connected since ' || to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS')
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
	AND l.classid::bigint = (($1::bigint >> 32) & 4294967295) AND l.objid::bigint = ($1::bigint & 4294967295)
LIMIT 1`,
	},
}
