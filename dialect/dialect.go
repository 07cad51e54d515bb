package dialect

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ratchetdb/ratchet/sqlsplit"
)

// Dialect is one of the database backends ratchet supports. It is a value: what it says about
// its backend is fixed data that no caller can change, so every Migrator sees the same.
// The zero value is not a dialect ([Dialect.Valid] is false).
type Dialect uint8

// The supported dialects. MariaDB is the MySQL dialect.
const (
	SQLite Dialect = iota + 1
	Postgres
	MySQL
)

// spec is everything ratchet knows about one backend, as data. The engine reads it through
// Dialect's methods and never asks which backend it is talking to.
type spec struct {
	name             string
	split            sqlsplit.Dialect
	transactionalDDL bool
	// multiStatementExec: one Exec may carry several statements.
	multiStatementExec bool
	// multiStatementProbe, where multiStatementExec is false: a harmless pair of statements
	// with one bind parameter each, which succeeds with the arguments 1 and 1 only if the
	// connection takes several statements with arguments in one Exec after all.
	multiStatementProbe string
	// rollbackable lists, by first keyword, the statements a dialect without transactional
	// DDL can still roll back; the others are assumed to commit, which is the safe mistake.
	rollbackable map[string]bool
	// committing lists, by first keyword, the statements known to commit any open
	// transaction before they run, temporary tables excepted.
	committing map[string]bool
	// refused lists, by first keyword, statements a script may not contain, with the reason.
	refused map[string]string
	// skipped lists, by their first two keywords, statements ratchet skips with a warning,
	// with the reason.
	skipped        map[string]string
	numberedParams bool
	identQuote     byte
	// maxIdent is the longest identifier the backend keeps intact; identInChars says whether
	// it counts bytes or characters.
	maxIdent     int
	identInChars bool
	beginWrite   string
	// hexText renders a string literal from its bytes in hexadecimal (%x), which no
	// setting of the session (escapes, character set) can misread.
	hexText       string
	currentSchema string
	listTables    string
	listTriggers  string
	ddlWait       *DDLWaitSQL
	historyDDL    string
	// readSetting reads a session setting that scripts may change and that each version
	// starts from afresh; resetSetting (%s: the value) sets it for the current transaction.
	readSetting  string
	resetSetting string
	lockTimeout  *TimeoutSQL
	writeSession []SessionSetting
	hold         *HoldSQL
	maintenance  string
	createDB     string
	unknownDB    string
	existsCodes  []string
	sanityCheck  string
	maxVersion   int
	busyCode     string
	lock         *LockSQL
	lease        *LeaseSQL
	// clusterProbe and schemaUpgrade: see [Dialect.ClusterProbe], [Dialect.SchemaUpgradeMethod].
	clusterProbe  string
	schemaUpgrade string
	causalReads   *SettingSQL
}

// specs holds the dialects' data, indexed by Dialect.
var specs = [...]spec{SQLite: sqliteSpec, Postgres: postgresSpec, MySQL: mysqlSpec}

func (d Dialect) spec() *spec {
	if !d.Valid() {
		panic("dialect: invalid Dialect " + strconv.Itoa(int(d)))
	}
	return &specs[d]
}

// Valid reports whether d is one of the supported dialects.
func (d Dialect) Valid() bool { return d >= SQLite && d <= MySQL }

// All returns the supported dialects.
func All() []Dialect { return []Dialect{SQLite, Postgres, MySQL} }

// ByName returns the dialect for a script dbms name ("sqlite", "postgresql", "mysql").
func ByName(name string) (Dialect, bool) {
	for _, d := range All() {
		if d.Name() == name {
			return d, true
		}
	}
	return 0, false
}

// Name is the backend's name as it appears in script file names
// (`001_init_<name>_upgrade.sql`).
func (d Dialect) Name() string { return d.spec().name }

// String returns the dialect's name, or "Dialect(n)" for an invalid value.
func (d Dialect) String() string {
	if !d.Valid() {
		return "Dialect(" + strconv.Itoa(int(d)) + ")"
	}
	return d.Name()
}

// Split returns the lexical rules used to split scripts into statements.
func (d Dialect) Split() sqlsplit.Dialect { return d.spec().split }

// TransactionalDDL reports whether DDL can be rolled back. Where it cannot, a version cannot
// be applied atomically and its progress is journalled statement by statement.
func (d Dialect) TransactionalDDL() bool { return d.spec().transactionalDDL }

// MultiStatementExec reports whether one Exec may always carry several statements.
func (d Dialect) MultiStatementExec() bool { return d.spec().multiStatementExec }

// MultiStatementProbe returns, where [Dialect.MultiStatementExec] is false, a harmless pair
// of statements with one bind parameter each: run with the arguments 1 and 1, it succeeds
// only if the connection accepts several statements with arguments in one Exec after all
// (go-sql-driver/mysql does with multiStatements=true and interpolateParams=true). "" when
// there is nothing to probe.
func (d Dialect) MultiStatementProbe() string { return d.spec().multiStatementProbe }

// Rollbackable reports whether stmt can be rolled back on a dialect without transactional
// DDL (DML on MySQL); on the others, every statement can.
func (d Dialect) Rollbackable(stmt string) bool {
	s := d.spec()
	return s.transactionalDDL || s.rollbackable[sqlsplit.Keyword(stmt)]
}

// CommitsImplicitly reports whether stmt is known to commit any open transaction before it
// runs (DDL on MySQL). CREATE and DROP TEMPORARY TABLE do not.
func (d Dialect) CommitsImplicitly(stmt string) bool {
	kw := sqlsplit.Keyword(stmt)
	if !d.spec().committing[kw] {
		return false
	}
	head := strings.ToUpper(stmt[:min(len(stmt), 256)])
	i := strings.Index(head, kw)
	if i < 0 {
		return true // the keyword comes after a long comment
	}
	after := strings.Fields(head[i+len(kw):])
	return len(after) == 0 || after[0] != "TEMPORARY"
}

// Skipped returns why ratchet skips stmt, with a warning, instead of running it on this
// dialect, or "".
func (d Dialect) Skipped(stmt string) string {
	kw := sqlsplit.Keyword(stmt)
	if kw == "" {
		return ""
	}
	for key, why := range d.spec().skipped {
		first, second, _ := strings.Cut(key, " ")
		if first != kw {
			continue
		}
		head := strings.ToUpper(stmt[:min(len(stmt), 256)])
		i := strings.Index(head, kw)
		if after := strings.Fields(head[i+len(kw):]); len(after) > 0 && strings.TrimRight(after[0], ";") == second {
			return why
		}
	}
	return ""
}

// Refused returns why a script may not contain stmt on this dialect, or "".
func (d Dialect) Refused(stmt string) string {
	return d.spec().refused[sqlsplit.Keyword(stmt)]
}

// Param returns the n-th (1-based) bind parameter placeholder.
func (d Dialect) Param(n int) string {
	if d.spec().numberedParams {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// Rebind rewrites the "?" placeholders of query in the dialect's own style ($1, $2, … on
// PostgreSQL), so that a Go migration writes its queries once for every dialect. A "?"
// inside a quoted string, a quoted identifier or a comment is left alone.
func (d Dialect) Rebind(query string) string {
	if !d.spec().numberedParams || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(query[i+1:], c)
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+end+2])
			i += end + 1
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+end+1])
			i += end
		case c == '?':
			n++
			b.WriteString(d.Param(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Ident returns name ready to be used as an identifier in SQL. Like SQLAlchemy, it leaves
// plain lower-case names bare (so the DDL reads as the legacy tool wrote it) and quotes
// everything else, doubling embedded quote characters.
func (d Dialect) Ident(name string) string {
	if isPlainIdent(name) {
		return name
	}
	return d.Quote(name)
}

// Quote returns name quoted as an identifier whatever it is: names read from a catalog may
// be any word, reserved ones included.
func (d Dialect) Quote(name string) string {
	q := string(d.spec().identQuote)
	return q + strings.ReplaceAll(name, q, q+q) + q
}

// Qualified returns table in schema as an identifier: bookkeeping names stay in the schema
// (or database) resolved when a run starts, whatever a script does to its session.
func (d Dialect) Qualified(schema, table string) string {
	if schema == "" {
		return d.Ident(table)
	}
	return d.Ident(schema) + "." + d.Ident(table)
}

// CheckIdent returns an error when name is longer than the backend keeps: PostgreSQL would
// silently truncate it (63 bytes), MySQL refuses it only when the table is created (64
// characters).
func (d Dialect) CheckIdent(what, name string) error {
	s := d.spec()
	if s.maxIdent == 0 {
		return nil
	}
	n, unit := len(name), "bytes"
	if s.identInChars {
		n, unit = utf8.RuneCountInString(name), "characters"
	}
	if n > s.maxIdent {
		return fmt.Errorf("%s %q is %d %s long; %s keeps at most %d", what, name, n, unit, s.name, s.maxIdent)
	}
	return nil
}

// Literal returns v as an SQL literal: an integer, a string (written from its bytes in
// hexadecimal, so that no session setting can misread it) or nil (NULL). It is for
// bookkeeping statements sent in one Exec with script statements, where bind parameters
// cannot be used.
func (d Dialect) Literal(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case string:
		return fmt.Sprintf(d.spec().hexText, v)
	}
	panic(fmt.Sprintf("dialect: no literal for %T", v))
}

// BeginWrite returns the statement that starts a transaction that writes: on SQLite it takes
// the write lock at once (waiting up to the busy timeout), so that a version never fails
// half way for want of it.
func (d Dialect) BeginWrite() string { return d.spec().beginWrite }

// CurrentSchema returns the query that reads the schema (PostgreSQL) or database (MySQL)
// unqualified names resolve to; "" where it is fixed ([Dialect.DefaultSchema]).
func (d Dialect) CurrentSchema() string { return d.spec().currentSchema }

// DefaultSchema is the schema bookkeeping lives in where [Dialect.CurrentSchema] is "".
const DefaultSchema = "main"

// ListTables returns the query listing the base tables of the schema given as its only
// parameter, sorted.
func (d Dialect) ListTables() string { return d.spec().listTables }

// ListTriggers returns the query listing the enabled triggers of the schema given as its only
// parameter (a disabled trigger keeps nothing in step).
func (d Dialect) ListTriggers() string { return d.spec().listTriggers }

// CreateHistoryTable returns the DDL of ratchet's history table, named table.
func (d Dialect) CreateHistoryTable(table string) string {
	return strings.Replace(d.spec().historyDDL, "%s", table, 1)
}

// ReadSetting returns the query that reads the session setting each version starts from
// afresh (PostgreSQL's search_path, which scripts such as pg_dump files change), or "".
func (d Dialect) ReadSetting() string { return d.spec().readSetting }

// ResetSetting returns the statement that sets the session setting back to value, read by
// [Dialect.ReadSetting] when the run started, for the current transaction only.
func (d Dialect) ResetSetting(value string) string {
	return fmt.Sprintf(d.spec().resetSetting, d.Literal(value))
}

// TimeoutSQL reads and sets how long a statement waits for another connection's lock, in
// milliseconds (SQLite's busy timeout).
type TimeoutSQL struct {
	Read string // returns one integer
	Set  string // %d is the timeout in milliseconds
}

// SessionSetting is a setting that a run which writes needs on its connection, whatever the
// caller's DSN set: Read returns the value, Set (%s) sets one, Want is the value the run needs.
type SessionSetting struct {
	Read, Set, Want string
}

// WriteSession returns the settings a run that writes puts on its connection, and restores
// when it ends.
func (d Dialect) WriteSession() []SessionSetting { return slices.Clone(d.spec().writeSession) }

// DDLWaitSQL bounds how long a rolling phase's statement waits for a table lock that the
// running service holds: a schema change queued behind a long transaction would otherwise
// make every query on the table queue behind it.
type DDLWaitSQL struct {
	// Local is a statement run first in each transaction of the phase (%d: milliseconds),
	// which the transaction's end undoes; "" where the setting is the session's.
	Local string
	// Read returns the session's value; Set sets it (%d: Seconds ? seconds : milliseconds)
	// and Restore puts the value read back (%s); "" where Local is used.
	Read, Set, Restore string
	Seconds            bool
	// Codes are the error codes of a statement that gave up waiting for its lock: it did
	// not run, so it may be sent again.
	Codes []string
}

// DDLWait returns how a rolling phase bounds its statements' wait for a table lock, or nil.
func (d Dialect) DDLWait() *DDLWaitSQL {
	if w := d.spec().ddlWait; w != nil {
		c := *w
		c.Codes = slices.Clone(w.Codes)
		return &c
	}
	return nil
}

// LockTimeout returns how the lock timeout is applied to a connection, or nil where the
// migration lock ([Dialect.Lock]) bounds the wait.
func (d Dialect) LockTimeout() *TimeoutSQL {
	if t := d.spec().lockTimeout; t != nil {
		c := *t
		return &c
	}
	return nil
}

// HoldSQL describes how a run that writes holds a file database for its duration: the
// connection keeps its write lock between transactions (the way the servers' migration lock
// is kept), and a journal mode that deletes its file at each commit is swapped for one that
// keeps it. Every setting belongs to the connection and is restored when the run ends.
type HoldSQL struct {
	ReadJournal  string   // returns the journal mode
	SetJournal   string   // %s is the mode; returns the mode now in force
	Keep         string   // the journal mode used during the run
	Replace      []string // the journal modes that Keep replaces
	Unheld       []string // journal modes in which the file is not held at all (WAL)
	ReadLocking  string   // returns the locking mode
	Exclusive    string   // turns the connection exclusive; returns the mode
	Held         string   // the locking mode that means the file is already held
	Release      string   // turns the connection back to normal and drops the lock
	BeginLocking string   // starts the transaction inside which the connection turns exclusive
}

// Hold returns how a run holds the database file, or nil for server databases.
func (d Dialect) Hold() *HoldSQL {
	if h := d.spec().hold; h != nil {
		c := *h
		c.Replace, c.Unheld = slices.Clone(h.Replace), slices.Clone(h.Unheld)
		return &c
	}
	return nil
}

// MaintenanceDatabase is the database to connect to in order to create another one on the
// same server ("" connects to none).
func (d Dialect) MaintenanceDatabase() string { return d.spec().maintenance }

// CreatesDatabases reports whether databases are created on a server with
// [Dialect.CreateDatabaseSQL] (false for SQLite, whose databases are files).
func (d Dialect) CreatesDatabases() bool { return d.spec().createDB != "" }

// CreateDatabaseSQL returns the statement that creates database name.
func (d Dialect) CreateDatabaseSQL(name string) string {
	return strings.Replace(d.spec().createDB, "%s", d.Ident(name), 1)
}

// UnknownDatabaseCode is the error code of a connection to a database that does not exist.
func (d Dialect) UnknownDatabaseCode() string { return d.spec().unknownDB }

// DatabaseExists reports whether code is the error a CREATE DATABASE gives when the database
// exists, or was being created at the same moment by another session.
func (d Dialect) DatabaseExists(code string) bool {
	for _, c := range d.spec().existsCodes {
		if c == code {
			return true
		}
	}
	return false
}

// SanityCheck returns the query listing the tables (name, collation) whose collation is not
// utf8, which the legacy tool refused to migrate; "" where there is no such check.
func (d Dialect) SanityCheck() string { return d.spec().sanityCheck }

// MaxVersion is the largest version the version table's INTEGER column holds (0: no limit
// below int64). Timestamp-numbered versions need SQLite's 64-bit integers.
func (d Dialect) MaxVersion() int { return d.spec().maxVersion }

// BusyCode is the error code of a statement that gave up waiting for another writer
// (SQLite's SQLITE_BUSY, after the busy timeout); "" when the migration lock covers it.
func (d Dialect) BusyCode() string { return d.spec().busyCode }

// LockSQL is a backend's session-level named lock, as SQL. Each query takes the lock key as
// its only parameter: a string ([LockSQL.NumericKey] false) or an int64.
type LockSQL struct {
	// TryLock takes the lock without waiting and returns one row: true or 1 when it was
	// taken, and the id of the server session that ran it.
	TryLock string
	// Session returns one row: the id of the server session that runs it. A client whose
	// statements reach several server sessions (through a pooler in transaction mode) holds
	// a session lock on one of them only.
	Session string
	// Unlock releases it and returns one row whose single column is true or 1 when the
	// session held it.
	Unlock string
	// Holder returns one row describing the session holding the lock (no rows or NULL if
	// unknown), for the timeout message.
	Holder string
	// NumericKey selects an int64 key instead of a string name.
	NumericKey bool
}

// Lock returns the session lock that serialises migrations across processes, or nil when the
// database serialises writers itself (SQLite).
func (d Dialect) Lock() *LockSQL {
	if l := d.spec().lock; l != nil {
		c := *l
		return &c
	}
	return nil
}

// versionTableDDL is the version table exactly as sqlalchemy-migrate's DDL compiler writes it
// (tabs, ", " before each newline), so that a database either tool creates is the same byte
// for byte. The same text is valid on every supported backend.
const versionTableDDL = "CREATE TABLE %s (\n" +
	"\trepository_id VARCHAR(250) NOT NULL, \n" +
	"\trepository_path TEXT, \n" +
	"\tversion INTEGER, \n" +
	"\tPRIMARY KEY (repository_id)\n" +
	")"

// CreateVersionTable returns the DDL that creates the sqlalchemy-migrate version table
// named table (an identifier, quoted or qualified as needed).
func (d Dialect) CreateVersionTable(table string) string {
	return strings.Replace(versionTableDDL, "%s", table, 1)
}

// isPlainIdent reports whether name needs no quoting on any backend: lower-case letters,
// digits and underscores, not starting with a digit, and not a reserved word.
func isPlainIdent(name string) bool {
	if name == "" || reserved[name] {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c == '_':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// reserved holds the words that need quoting as identifiers on at least one backend and
// that are plausible table names.
var reserved = map[string]bool{
	"all": true, "alter": true, "and": true, "as": true, "by": true, "case": true,
	"check": true, "column": true, "create": true, "default": true, "delete": true,
	"desc": true, "distinct": true, "drop": true, "from": true, "group": true,
	"index": true, "insert": true, "key": true, "limit": true, "not": true, "null": true,
	"or": true, "order": true, "primary": true, "references": true, "select": true,
	"table": true, "to": true, "union": true, "unique": true, "update": true,
	"user": true, "values": true, "where": true, "with": true,
}

type contextKey struct{}

// NewContext returns a context that carries d. ratchet passes such a context to Go
// migrations, so that they can write SQL for the database they run on.
func NewContext(ctx context.Context, d Dialect) context.Context {
	return context.WithValue(ctx, contextKey{}, d)
}

// FromContext returns the dialect carried by ctx; ok is false when it carries none.
func FromContext(ctx context.Context) (d Dialect, ok bool) {
	d, ok = ctx.Value(contextKey{}).(Dialect)
	return d, ok
}
