package dialect

import "github.com/ratchetdb/ratchet/sqlsplit"

// sqliteSpec is the embedded default (modernc.org/sqlite, driver name "sqlite"). DDL is
// transactional; writers are serialised by the file lock, which a run takes with BEGIN
// IMMEDIATE and keeps (see HoldSQL), waiting up to the busy timeout that the engine sets from
// its lock timeout, so no separate lock is needed.
var sqliteSpec = spec{
	name:             "sqlite",
	split:            sqlsplit.SQLite,
	transactionalDDL: true,
	// SQLite's exec runs several statements.
	multiStatementExec: true,
	identQuote:         '"',
	hexText:            "CAST(X'%x' AS TEXT)",
	beginWrite:         "BEGIN IMMEDIATE",
	busyCode:           "5", // SQLITE_BUSY, after the busy timeout
	listTables: `SELECT name FROM sqlite_schema
WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND ? = 'main'
ORDER BY name`,
	listTriggers: "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND ? = 'main'",
	// Foreign keys off, as SQLite's own procedure for changing a table says: the rebuild
	// (new table, copy, DROP TABLE, rename) would otherwise fail, or, with ON DELETE CASCADE,
	// delete the child rows with the old table. Scripts run as under the legacy tool, whose
	// connections never turned them on.
	writeSession: []SessionSetting{{Read: "PRAGMA foreign_keys", Set: "PRAGMA foreign_keys = %s", Want: "0"}},
	lockTimeout:  &TimeoutSQL{Read: "PRAGMA busy_timeout", Set: "PRAGMA busy_timeout = %d"},
	hold: &HoldSQL{
		ReadJournal:  "PRAGMA journal_mode",
		SetJournal:   "PRAGMA journal_mode = %s",
		Keep:         "persist",
		Replace:      []string{"delete", "truncate"},
		Unheld:       []string{"wal"},
		ReadLocking:  "PRAGMA locking_mode",
		Exclusive:    "PRAGMA locking_mode = EXCLUSIVE",
		Held:         "exclusive",
		Release:      "PRAGMA locking_mode = NORMAL; PRAGMA schema_version",
		BeginLocking: "BEGIN IMMEDIATE",
	},
	historyDDL: `CREATE TABLE IF NOT EXISTS %s (
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
