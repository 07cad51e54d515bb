package dialect

import "github.com/ratchetdb/ratchet/sqlsplit"

// Postgres is PostgreSQL through pgx's database/sql adapter (driver name "pgx"). DDL is
// transactional, so every version is applied atomically with its bookkeeping.
var Postgres = &Dialect{
	Name:             "postgresql",
	Split:            sqlsplit.PostgreSQL,
	TransactionalDDL: true,
	NumberedParams:   true,
	IdentQuote:       '"',
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
}
