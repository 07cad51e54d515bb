package dialect

import "github.com/ratchetdb/ratchet/sqlsplit"

// SQLite is the embedded default (modernc.org/sqlite, driver name "sqlite"). DDL is
// transactional; writers are serialised by `BEGIN IMMEDIATE` transactions and the busy
// timeout, so no separate lock is needed.
var SQLite = &Dialect{
	Name:             "sqlite",
	Split:            sqlsplit.SQLite,
	TransactionalDDL: true,
	// SQLite's exec runs several statements.
	MultiStatementExec: true,
	IdentQuote:         '"',
	BusyCode:           "5", // SQLITE_BUSY, after the busy timeout
	ListTables: `SELECT name FROM sqlite_master
WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY name`,
	CreateHistoryTable: `CREATE TABLE IF NOT EXISTS %s (
	id INTEGER PRIMARY KEY, -- no AUTOINCREMENT: rows are never deleted, and it costs a page write per commit
	repository_id VARCHAR(250) NOT NULL,
	version INTEGER NOT NULL,
	phase VARCHAR(16) NOT NULL,
	script VARCHAR(512) NOT NULL,
	checksum VARCHAR(100) NOT NULL,
	applied_at TIMESTAMP NOT NULL,
	duration_ms INTEGER NOT NULL,
	statements INTEGER NOT NULL,
	applied_by VARCHAR(255) NOT NULL
)`,
}
