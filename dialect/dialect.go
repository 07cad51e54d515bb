package dialect

import (
	"context"
	"strconv"
	"strings"

	"github.com/ratchetdb/ratchet/sqlsplit"
)

// Dialect is everything ratchet needs to know about one database backend. Its fields are
// data, not behaviour: the engine reads them and never asks which backend it is talking to.
// The values are shared and must not be modified.
type Dialect struct {
	// Name is the backend's name as it appears in script file names
	// (`001_init_<name>_upgrade.sql`).
	Name string
	// Split selects the lexical rules used to split scripts into statements.
	Split sqlsplit.Dialect
	// TransactionalDDL reports whether DDL can be rolled back. Where it cannot, a version
	// cannot be applied atomically and its progress is journalled statement by statement.
	TransactionalDDL bool
	// MultiStatementExec reports whether one Exec may carry several statements, so that a
	// version's statements go to the server in one round trip.
	MultiStatementExec bool
	// MultiStatementProbe, where MultiStatementExec is false, is a harmless pair of
	// statements with one bind parameter each. Run with the arguments 1 and 1, it succeeds
	// only if the connection accepts several statements, with arguments, in one Exec after
	// all (go-sql-driver/mysql does with multiStatements=true and interpolateParams=true).
	MultiStatementProbe string
	// RollbackableStatements lists, by first keyword, the statements a dialect without
	// transactional DDL can still roll back: the others commit implicitly. Statements not
	// listed are assumed to commit, which is the safe mistake.
	RollbackableStatements map[string]bool
	// CommittingStatements lists, by first keyword, the statements known to commit any open
	// transaction before they run (MySQL's DDL), temporary tables excepted.
	CommittingStatements map[string]bool
	// NumberedParams reports whether bind parameters are written $1, $2, … instead of ?.
	NumberedParams bool
	// IdentQuote is the character that quotes identifiers.
	IdentQuote byte

	// ListTables returns the names of the base tables in the connection's schema, sorted.
	ListTables string
	// CreateHistoryTable creates ratchet's own history table; %s is the quoted table name.
	CreateHistoryTable string

	// MaintenanceDatabase is the database to connect to in order to create another one on
	// the same server ("" connects to none); CreateDatabase creates one, %s being its quoted
	// name; UnknownDatabaseCode is the error code of a connection to a database that does
	// not exist. All empty for SQLite, whose databases are files.
	MaintenanceDatabase string
	CreateDatabase      string
	UnknownDatabaseCode string

	// SanityCheck, when set, lists the tables (name, collation) whose collation is not
	// utf8: the legacy tool refused to migrate MySQL databases with such tables.
	SanityCheck string

	// MaxVersion is the largest version the version table's INTEGER column holds (0: no
	// limit below int64). Timestamp-numbered versions need SQLite's 64-bit integers.
	MaxVersion int

	// BusyCode is the error code of a statement that gave up waiting for another writer
	// (SQLite's SQLITE_BUSY, after the busy timeout); "" when the Lock covers it.
	BusyCode string

	// Lock describes the session lock that serialises migrations across processes; nil
	// when the database serialises writers itself (SQLite).
	Lock *LockSQL
}

// LockSQL is a backend's session-level named lock, as SQL. Each query takes the lock key
// as its only parameter: a string ([LockSQL.NumericKey] false) or an int64.
type LockSQL struct {
	// TryLock takes the lock without waiting and returns one row whose single column is
	// true or 1 when it was taken.
	TryLock string
	// Unlock releases it.
	Unlock string
	// Holder returns one row describing the session holding the lock (no rows or NULL if
	// unknown), for the timeout message.
	Holder string
	// NumericKey selects an int64 key instead of a string name.
	NumericKey bool
}

// ByName returns the dialect for a script dbms name ("sqlite", "postgresql", "mysql").
func ByName(name string) (*Dialect, bool) {
	for _, d := range All {
		if d.Name == name {
			return d, true
		}
	}
	return nil, false
}

// All lists the supported dialects.
var All = []*Dialect{SQLite, Postgres, MySQL}

// versionTableDDL is the version table exactly as sqlalchemy-migrate's DDL compiler writes it
// (tabs, ", " before each newline), so that a database either tool creates is the same byte
// for byte. The same text is valid on every supported backend.
const versionTableDDL = "CREATE TABLE %s (\n" +
	"\trepository_id VARCHAR(250) NOT NULL, \n" +
	"\trepository_path TEXT, \n" +
	"\tversion INTEGER, \n" +
	"\tPRIMARY KEY (repository_id)\n" +
	")"

// CreateDatabaseSQL returns the statement that creates database name.
func (d *Dialect) CreateDatabaseSQL(name string) string {
	return strings.Replace(d.CreateDatabase, "%s", d.Ident(name), 1)
}

// CreateVersionTable returns the DDL that creates the sqlalchemy-migrate version table
// under the given name.
func (d *Dialect) CreateVersionTable(name string) string {
	return strings.Replace(versionTableDDL, "%s", d.Ident(name), 1)
}

// CommitsImplicitly reports whether stmt is known to commit any open transaction before it
// runs (see CommittingStatements). CREATE and DROP TEMPORARY TABLE do not.
func (d *Dialect) CommitsImplicitly(stmt string) bool {
	kw := sqlsplit.Keyword(stmt)
	if !d.CommittingStatements[kw] {
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

// Param returns the n-th (1-based) bind parameter placeholder.
func (d *Dialect) Param(n int) string {
	if d.NumberedParams {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// Ident returns name ready to be used as an identifier in SQL. Like SQLAlchemy, it leaves
// plain lower-case names bare (so the DDL reads as the legacy tool wrote it) and quotes
// everything else, doubling embedded quote characters.
func (d *Dialect) Ident(name string) string {
	if isPlainIdent(name) {
		return name
	}
	q := string(d.IdentQuote)
	return q + strings.ReplaceAll(name, q, q+q) + q
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
func NewContext(ctx context.Context, d *Dialect) context.Context {
	return context.WithValue(ctx, contextKey{}, d)
}

// FromContext returns the dialect carried by ctx, or nil.
func FromContext(ctx context.Context) *Dialect {
	d, _ := ctx.Value(contextKey{}).(*Dialect)
	return d
}
