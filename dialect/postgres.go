package dialect

import (
	"math"

	"github.com/ratchetdb/ratchet/sqlsplit"
)

// postgresSpec is PostgreSQL through pgx's database/sql adapter (driver name "pgx"). DDL is
// transactional, so every version is applied atomically with its bookkeeping.
var postgresSpec = spec{
	name:             "postgresql",
	split:            sqlsplit.PostgreSQL,
	transactionalDDL: true,
	// The simple query protocol (pgx uses it for queries without arguments) runs several
	// statements.
	multiStatementExec: true,
	numberedParams:     true,
	maxVersion:         math.MaxInt32, // INTEGER is 32 bits here
	identQuote:         '"',
	maxIdent:           63, // NAMEDATALEN - 1, in bytes; longer names are truncated silently
	hexText:            "convert_from(decode('%x', 'hex'), 'UTF8')",
	beginWrite:         "BEGIN",
	currentSchema:      "SELECT current_schema()",
	listTables: `SELECT table_name FROM information_schema.tables
WHERE table_schema = $1 AND table_type = 'BASE TABLE'
ORDER BY table_name`,
	listTriggers: `SELECT t.tgname FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND n.nspname = $1`,
	// A script may set search_path (every pg_dump file empties it); each version starts
	// from the one the run started with.
	readSetting:  "SELECT current_setting('search_path')",
	resetSetting: "SELECT set_config('search_path', %s, true)",
	historyDDL: `CREATE TABLE IF NOT EXISTS %s (
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
	maintenance: "postgres",
	createDB:    "CREATE DATABASE %s",
	unknownDB:   "3D000", // invalid_catalog_name
	// duplicate_database; unique_violation on pg_database when two sessions create it at once
	existsCodes: []string{"42P04", "23505"},
	// In each transaction only: a no-transaction statement (CREATE INDEX CONCURRENTLY) that
	// gave up waiting could leave an invalid index behind, so it waits as long as it needs.
	ddlWait: &DDLWaitSQL{Local: "SET LOCAL lock_timeout = %d", Codes: []string{"55P03"}}, // lock_not_available
	lock: &LockSQL{
		TryLock:    "SELECT pg_try_advisory_lock($1), pg_backend_pid()",
		Session:    "SELECT pg_backend_pid()",
		Unlock:     "SELECT pg_advisory_unlock($1)",
		NumericKey: true,
		// A bigint advisory lock shows in pg_locks as classid (high half), objid (low half),
		// in the database it was taken in.
		Holder: `SELECT 'pid ' || a.pid || COALESCE(' (' || NULLIF(a.application_name, '') || ')', '') ||
	' as ' || COALESCE(a.usename, '?') || COALESCE(' from ' || host(a.client_addr), '') ||
	', connected since ' || to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS')
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
	AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND l.classid::bigint = (($1::bigint >> 32) & 4294967295) AND l.objid::bigint = ($1::bigint & 4294967295)
LIMIT 1`,
	},
	// clock_timestamp(), not now(): now() is when the transaction started.
	lease: &LeaseSQL{
		Create: `CREATE TABLE IF NOT EXISTS {table} (
	repository_id VARCHAR(250) NOT NULL PRIMARY KEY,
	holder VARCHAR(64) NOT NULL,
	host VARCHAR(255) NOT NULL,
	pid BIGINT NOT NULL,
	acquired TIMESTAMPTZ NOT NULL,
	expires TIMESTAMPTZ NOT NULL
)`,
		Insert: `INSERT INTO {table} (repository_id, holder, host, pid, acquired, expires)
VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp() + $5::bigint * interval '1 microsecond')
ON CONFLICT (repository_id) DO NOTHING`,
		TakeOver: `UPDATE {table} SET holder = $1, host = $2, pid = $3, acquired = clock_timestamp(),
	expires = clock_timestamp() + $4::bigint * interval '1 microsecond'
WHERE repository_id = $5 AND expires < clock_timestamp()`,
		Renew:   "UPDATE {table} SET expires = clock_timestamp() + $1::bigint * interval '1 microsecond' WHERE repository_id = $2 AND holder = $3",
		Release: "DELETE FROM {table} WHERE repository_id = $1 AND holder = $2",
		Holder: `SELECT host, pid, to_char(acquired AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
	(EXTRACT(EPOCH FROM expires - clock_timestamp()) * 1000000)::bigint
FROM {table} WHERE repository_id = $1`,
	},
}
