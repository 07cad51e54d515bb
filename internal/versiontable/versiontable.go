package versiontable

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/sqlrows"
)

// HistoryTable is the name of ratchet's own history table.
const HistoryTable = "ratchet_history"

// LockTable is the name of the table that holds the migration lock's lease, where a lease is
// the lock (see package lock).
const LockTable = "ratchet_lock"

// ErrConcurrentUpdate is returned by [Table.Advance] when the version row did not hold the
// expected version: another process changed it, and nothing was written.
var ErrConcurrentUpdate = errors.New("the version row changed under us (another process is migrating this database?)")

// Querier runs SQL; *sql.DB, *sql.Conn and *sql.Tx satisfy it.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var (
	_ Querier = (*sql.DB)(nil)
	_ Querier = (*sql.Conn)(nil)
	_ Querier = (*sql.Tx)(nil)
)

// Table reads and writes one repository's row of the version table and its rows of the
// history table. It holds no connection: every method runs on the Querier it is given, so the
// caller decides which statements share a transaction. Every name it writes is qualified by
// the schema it was made for, so that a script that changes its session's search path cannot
// move the bookkeeping.
type Table struct {
	d           dialect.Dialect
	schema      string
	name        string
	repoID      string
	journalCols []string // the journal table's columns, once read
}

// New returns the bookkeeping for repository repoID in version table name of schema (the
// PostgreSQL schema or MySQL database; [dialect.DefaultSchema] on SQLite).
func New(d dialect.Dialect, schema, name, repoID string) *Table {
	return &Table{d: d, schema: schema, name: name, repoID: repoID}
}

// Schema resolves the schema that unqualified names resolve to on q's session now: the one
// a run's bookkeeping stays in.
func Schema(ctx context.Context, d dialect.Dialect, q Querier) (string, error) {
	query := d.CurrentSchema()
	if query == "" {
		return dialect.DefaultSchema, nil
	}
	var schema sql.NullString
	if err := q.QueryRowContext(ctx, query).Scan(&schema); err != nil {
		return "", fmt.Errorf("reading the current schema: %w", err)
	}
	if !schema.Valid || schema.String == "" {
		return "", errors.New("the connection has no current schema or database (check the search_path or the database name)")
	}
	return schema.String, nil
}

// ident returns a bookkeeping table's name, qualified.
func (t *Table) ident(name string) string { return t.d.Qualified(t.schema, name) }

// Schema returns the schema (PostgreSQL) or database (MySQL) the bookkeeping lives in.
func (t *Table) Schema() string { return t.schema }

// Name returns the version table's name.
func (t *Table) Name() string { return t.name }

// IsBookkeeping reports whether table is one of the tables ratchet itself maintains.
func (t *Table) IsBookkeeping(table string) bool {
	return table == t.name || table == HistoryTable || table == JournalTable || table == RollingTable || table == LockTable
}

// ListTables returns the base tables of the database (the connection's schema), sorted.
func (t *Table) ListTables(ctx context.Context, q Querier) ([]string, error) {
	names, err := sqlrows.Strings(ctx, q, t.d.ListTables(), t.schema)
	if err != nil {
		return nil, fmt.Errorf("listing tables: %w", err)
	}
	return names, nil
}

// ListTriggers returns the enabled triggers of the database (the connection's schema).
func (t *Table) ListTriggers(ctx context.Context, q Querier) ([]string, error) {
	names, err := sqlrows.Strings(ctx, q, t.d.ListTriggers(), t.schema)
	if err != nil {
		return nil, fmt.Errorf("listing triggers: %w", err)
	}
	return names, nil
}

// Version returns the repository's recorded version. ok is false when the table has no row
// for the repository. The table must exist. A NULL version (allowed by the legacy schema) reads
// as 0.
func (t *Table) Version(ctx context.Context, q Querier) (version int, ok bool, err error) {
	query := "SELECT version FROM " + t.ident(t.name) + " WHERE repository_id = " + t.d.Param(1)
	var v sql.NullInt64
	switch err := q.QueryRowContext(ctx, query, t.repoID).Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("reading %s: %w", t.name, err)
	}
	return int(v.Int64), true, nil
}

// Repositories returns the repository ids the version table has rows for, sorted.
func (t *Table) Repositories(ctx context.Context, q Querier) ([]string, error) {
	ids, err := sqlrows.Strings(ctx, q, "SELECT repository_id FROM "+t.ident(t.name)+" ORDER BY repository_id")
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", t.name, err)
	}
	return ids, nil
}

// Unstamp removes the repository's row while it says version 0: the undoing of a stamp.
func (t *Table) Unstamp(ctx context.Context, q Querier) error {
	b := t.builder(false)
	query := "DELETE FROM " + t.ident(t.name) + " WHERE repository_id = " + b.p(t.repoID) + " AND COALESCE(version, 0) = 0"
	if _, err := q.ExecContext(ctx, query, b.args...); err != nil {
		return fmt.Errorf("removing the stamp from %s: %w", t.name, err)
	}
	return nil
}

// Drop drops a bookkeeping table that a failed run created.
func (t *Table) Drop(ctx context.Context, q Querier, table string) error {
	if _, err := q.ExecContext(ctx, "DROP TABLE "+t.ident(table)); err != nil {
		return fmt.Errorf("dropping %s: %w", table, err)
	}
	return nil
}

// Create creates the version table with sqlalchemy-migrate's exact DDL.
func (t *Table) Create(ctx context.Context, q Querier) error {
	if _, err := q.ExecContext(ctx, t.d.CreateVersionTable(t.ident(t.name))); err != nil {
		return fmt.Errorf("creating %s: %w", t.name, err)
	}
	return nil
}

// Stamp inserts the repository's row at version. repoPath is informational, as in the legacy
// tool (which stores the path it was given and never reads it back).
func (t *Table) Stamp(ctx context.Context, q Querier, repoPath string, version int) error {
	b := t.builder(false)
	query := "INSERT INTO " + t.ident(t.name) + " (repository_id, repository_path, version) VALUES (" +
		b.list(t.repoID, repoPath, version) + ")"
	if _, err := q.ExecContext(ctx, query, b.args...); err != nil {
		return fmt.Errorf("stamping %s at version %d: %w", t.name, version, err)
	}
	return nil
}

// Advance makes move mv: the counter's update is conditional on its old value and must touch
// exactly one row; otherwise it returns [ErrConcurrentUpdate] and the caller must roll back.
func (t *Table) Advance(ctx context.Context, q Querier, mv Move) error {
	if mv.Close {
		st := t.closeStatement(mv)
		if _, err := q.ExecContext(ctx, st.Query, st.Args...); err != nil {
			return fmt.Errorf("closing the window to version %d: %w", mv.To, err)
		}
	}
	st := t.advanceStatement(mv)
	res, err := q.ExecContext(ctx, st.Query, st.Args...)
	if err != nil {
		return fmt.Errorf("updating the %s from %d to %d: %w", mv.Counter, mv.From, mv.To, err)
	}
	return t.CheckAdvanced(res, mv)
}

// CheckAdvanced checks the result of the conditional update of move mv: it must have touched
// exactly one row, or the caller must roll back ([ErrConcurrentUpdate]).
func (t *Table) CheckAdvanced(res sql.Result, mv Move) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("updating the %s from %d to %d: %w", mv.Counter, mv.From, mv.To, err)
	}
	if n != 1 {
		return fmt.Errorf("updating the %s from %d to %d touched %d rows: %w", mv.Counter, mv.From, mv.To, n, ErrConcurrentUpdate)
	}
	return nil
}

// A Statement is a query and its arguments, for a caller that sends several statements in
// one Exec (MySQL with multiStatements and interpolateParams).
type Statement struct {
	Query string
	Args  []any
}

// FinishJournalStatements returns the statements that record a journalled step applied: its
// history row, the removal of the journal — or, with next, its hand-over to the next step,
// which starts with next's first statement recorded as running — and, last, so that its rows
// affected are the Exec's, the conditional update of move mv (check it with
// [Table.CheckAdvanced]). For dialects whose bind parameters are written "?".
func (t *Table) FinishJournalStatements(mv Move, e Entry, next *Journal) []Statement {
	journal := t.deleteJournal()
	if next != nil {
		b := t.builder(false)
		journal = b.statement("UPDATE " + t.ident(JournalTable) + " SET version = " + b.p(next.Version) + ", phase = " + b.p(next.Phase) + ", offline = " + b.p(next.offline()) + ", script = " + b.p(next.Script) +
			", total = " + b.p(next.Total) + ", done = " + b.p(next.Done()) + ", hashes = " + b.p(strings.Join(next.Hashes, ",")) +
			", running = " + b.p(next.Running) + ", failed_line = 0, error = NULL, earlier = " + b.p(next.Earlier) +
			" WHERE repository_id = " + b.p(t.repoID))
	}
	return append([]Statement{t.recordStatement([]Entry{e}), journal}, t.advanceStatements(mv)...)
}

// Entry is one row of the history table: one applied script.
type Entry struct {
	Version    int
	Phase      string // the script's operation: "upgrade", "expand", …
	Script     string // path relative to the repository, or "go:<name>"
	Checksum   string // algorithm-tagged, e.g. "sha256:…"
	AppliedAt  time.Time
	Duration   time.Duration
	Statements int
	AppliedBy  string
}

// CreateHistory creates the history table if it does not exist.
func (t *Table) CreateHistory(ctx context.Context, q Querier) error {
	if _, err := q.ExecContext(ctx, t.d.CreateHistoryTable(t.ident(HistoryTable))); err != nil {
		return fmt.Errorf("creating %s: %w", HistoryTable, err)
	}
	return nil
}

// Record appends e to the history table.
func (t *Table) Record(ctx context.Context, q Querier, e Entry) error {
	return t.RecordAll(ctx, q, []Entry{e})
}

// historyColumns are the columns Record writes, one bind parameter each.
const historyColumns = 9

// recordChunk bounds the rows of one INSERT, well below every backend's limit on bind
// parameters (SQLite 32766, PostgreSQL 65535).
const recordChunk = 1000

// RecordAll appends entries to the history table, many rows per statement.
func (t *Table) RecordAll(ctx context.Context, q Querier, entries []Entry) error {
	for len(entries) > 0 {
		chunk := entries[:min(len(entries), recordChunk)]
		entries = entries[len(chunk):]
		st := t.recordStatement(chunk)
		if _, err := q.ExecContext(ctx, st.Query, st.Args...); err != nil {
			return fmt.Errorf("recording version %d in %s: %w", chunk[0].Version, HistoryTable, err)
		}
	}
	return nil
}

// recordStatement inserts entries into the history table.
func (t *Table) recordStatement(entries []Entry) Statement {
	var b strings.Builder
	b.WriteString("INSERT INTO " + t.ident(HistoryTable) +
		" (repository_id, version, phase, script, checksum, applied_at, duration_ms, statements, applied_by) VALUES ")
	args := make([]any, 0, len(entries)*historyColumns)
	for i, e := range entries {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range historyColumns {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteString(t.d.Param(len(args) + c + 1))
		}
		b.WriteByte(')')
		args = append(args, t.repoID, e.Version, e.Phase, e.Script, e.Checksum,
			e.AppliedAt.UTC(), e.Duration.Milliseconds(), e.Statements, e.AppliedBy)
	}
	return Statement{b.String(), args}
}

// History returns the repository's history entries, oldest first. Callers check that the
// history table exists (see [Table.ListTables]); databases taken over from the legacy tool
// have none.
func (t *Table) History(ctx context.Context, q Querier) ([]Entry, error) {
	query := "SELECT version, phase, script, checksum, applied_at, duration_ms, statements, applied_by FROM " +
		t.ident(HistoryTable) + " WHERE repository_id = " + t.d.Param(1) + " ORDER BY id"
	rows, err := q.QueryContext(ctx, query, t.repoID)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", HistoryTable, err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var ms int64
		if err := rows.Scan(&e.Version, &e.Phase, &e.Script, &e.Checksum, &e.AppliedAt, &ms, &e.Statements, &e.AppliedBy); err != nil {
			return nil, fmt.Errorf("reading %s: %w", HistoryTable, err)
		}
		e.Duration = time.Duration(ms) * time.Millisecond
		e.AppliedAt = e.AppliedAt.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", HistoryTable, err)
	}
	return out, nil
}

// AppliedVersions returns the versions the history table records for the repository,
// ascending, each once.
func (t *Table) AppliedVersions(ctx context.Context, q Querier) ([]int, error) {
	query := "SELECT DISTINCT version FROM " + t.ident(HistoryTable) + " WHERE repository_id = " + t.d.Param(1) + " ORDER BY version"
	rows, err := q.QueryContext(ctx, query, t.repoID)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", HistoryTable, err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("reading %s: %w", HistoryTable, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
