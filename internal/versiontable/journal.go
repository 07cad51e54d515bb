package versiontable

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// JournalTable is the name of the table that records the progress of a version that cannot
// run in one transaction (DDL on MySQL/MariaDB, `-- ratchet:no-transaction` scripts).
const JournalTable = "ratchet_journal"

// journalDDL is valid on every supported backend. One row per repository: at most one version
// is in flight at a time.
const journalDDL = `CREATE TABLE IF NOT EXISTS %s (
	repository_id VARCHAR(250) NOT NULL,
	version INTEGER NOT NULL,
	script VARCHAR(512) NOT NULL,
	total INTEGER NOT NULL,
	done INTEGER NOT NULL,
	hashes TEXT NOT NULL,
	failed_line INTEGER NOT NULL,
	error TEXT,
	running INTEGER NOT NULL DEFAULT 0,
	earlier INTEGER NOT NULL DEFAULT 0,
	phase VARCHAR(16) NOT NULL DEFAULT 'upgrade',
	offline INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (repository_id)
)`

// addedColumns are the journal's columns that earlier releases did not create, with their
// definitions.
var addedColumns = [][2]string{
	{"running", "INTEGER NOT NULL DEFAULT 0"},
	{"earlier", "INTEGER NOT NULL DEFAULT 0"},
	{"phase", "VARCHAR(16) NOT NULL DEFAULT 'upgrade'"},
	{"offline", "INTEGER NOT NULL DEFAULT 0"},
}

// Journal is the progress of one version applied statement by statement.
type Journal struct {
	Version int
	Phase   string // the script's operation: "upgrade", "expand", "contract"
	// Offline is true for a phase part started without its online blocks (db sync): it is
	// resumed the same way.
	Offline bool
	Script  string
	Total   int      // statements in the script
	Hashes  []string // hashes of the statements applied so far, in order
	// Running is the 1-based index of the statement that was started and not yet recorded
	// as applied: in flight, or the one that failed when Error is set; 0 for none.
	Running int
	// Error is the failure that stopped the version, "" while it runs or when the process
	// died before it could record one.
	Error      string
	FailedLine int // line of the failing statement, 0 when unknown
	// Earlier is the number of statements an earlier attempt had applied before a retry
	// started the version again from its first statement (the operator undid them).
	Earlier int
}

// offline is Offline as the table stores it.
func (j *Journal) offline() int {
	if j.Offline {
		return 1
	}
	return 0
}

// Done returns the number of statements applied.
func (j *Journal) Done() int { return len(j.Hashes) }

// CreateJournal creates the journal table if it does not exist, and adds the columns an
// earlier release's table lacks. Run it outside a transaction: on MySQL it commits.
func (t *Table) CreateJournal(ctx context.Context, q Querier) error {
	if _, err := q.ExecContext(ctx, fmt.Sprintf(journalDDL, t.ident(JournalTable))); err != nil {
		return fmt.Errorf("creating %s: %w", JournalTable, err)
	}
	cols, err := t.journalColumns(ctx, q)
	if err != nil {
		return err
	}
	for _, c := range addedColumns {
		if slices.Contains(cols, c[0]) {
			continue
		}
		if _, err := q.ExecContext(ctx, "ALTER TABLE "+t.ident(JournalTable)+" ADD COLUMN "+c[0]+" "+c[1]); err != nil {
			return fmt.Errorf("adding column %s to %s: %w", c[0], JournalTable, err)
		}
		t.journalCols = append(t.journalCols, c[0])
	}
	return nil
}

// journalColumns returns the journal table's column names, lower-case, read once per Table
// (a Table lives for one run): the journal is read several times a run.
func (t *Table) journalColumns(ctx context.Context, q Querier) ([]string, error) {
	if t.journalCols != nil {
		return t.journalCols, nil
	}
	rows, err := q.QueryContext(ctx, "SELECT * FROM "+t.ident(JournalTable)+" WHERE 1 = 0")
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", JournalTable, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", JournalTable, err)
	}
	for i := range cols {
		cols[i] = strings.ToLower(cols[i])
	}
	t.journalCols = cols
	return cols, nil
}

// ReadJournal returns the repository's journal, or nil when no version is in flight. The
// journal table must exist; one written by an earlier release reads as having nothing in
// flight.
func (t *Table) ReadJournal(ctx context.Context, q Querier) (*Journal, error) {
	cols, err := t.journalColumns(ctx, q)
	if err != nil {
		return nil, err
	}
	extra := ""
	for _, c := range addedColumns {
		switch {
		case slices.Contains(cols, c[0]):
			extra += ", " + c[0]
		case c[0] == "phase":
			extra += ", 'upgrade'"
		default:
			extra += ", 0"
		}
	}
	query := "SELECT version, script, total, hashes, failed_line, error" + extra + " FROM " + t.ident(JournalTable) +
		" WHERE repository_id = " + t.d.Param(1)
	var j Journal
	var hashes string
	var msg sql.NullString
	var offline int
	err = q.QueryRowContext(ctx, query, t.repoID).Scan(&j.Version, &j.Script, &j.Total, &hashes, &j.FailedLine, &msg, &j.Running, &j.Earlier, &j.Phase, &offline)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", JournalTable, err)
	}
	if hashes != "" {
		j.Hashes = strings.Split(hashes, ",")
	}
	j.Offline = offline != 0
	j.Error = msg.String
	return &j, nil
}

// ClaimJournal returns the statement that records that j's step starts, as move mv: it
// inserts the row only if mv's counter still says mv.From, and [Table.Claimed] tells from its
// result whether it did. The repository must have no journal row.
func (t *Table) ClaimJournal(j *Journal, mv Move) Statement {
	b := t.builder(false)
	table, column := t.positionSource(mv.Counter)
	query := "INSERT INTO " + t.ident(JournalTable) + " (repository_id, version, phase, offline, script, total, done, hashes, failed_line, error, running, earlier) SELECT " +
		b.list(t.repoID, j.Version, j.Phase, j.offline(), j.Script, j.Total, j.Done(), strings.Join(j.Hashes, ","), 0, nil, j.Running, j.Earlier) +
		" FROM " + t.ident(table) + " WHERE repository_id = " + b.p(t.repoID) + " AND " + column + " = " + b.p(mv.From)
	return b.statement(query)
}

// Claimed reports whether the claim whose result is res inserted the journal row.
func (t *Table) Claimed(res sql.Result, j *Journal) (bool, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("journalling version %d: %w", j.Version, err)
	}
	return n == 1, nil
}

// ReplaceJournal records that j's version starts again (resumed or retried), replacing the
// repository's row. Run it in a transaction: between the removal of the old row and the
// insertion of the new one, a crash would lose the record of a version applied part way.
func (t *Table) ReplaceJournal(ctx context.Context, q Querier, j *Journal) error {
	if err := t.DeleteJournal(ctx, q); err != nil {
		return err
	}
	b := t.builder(false)
	query := "INSERT INTO " + t.ident(JournalTable) + " (repository_id, version, phase, offline, script, total, done, hashes, failed_line, error, running, earlier) VALUES (" +
		b.list(t.repoID, j.Version, j.Phase, j.offline(), j.Script, j.Total, j.Done(), strings.Join(j.Hashes, ","), 0, nil, j.Running, j.Earlier) + ")"
	if _, err := q.ExecContext(ctx, query, b.args...); err != nil {
		return fmt.Errorf("journalling version %d: %w", j.Version, err)
	}
	return nil
}

// Progress returns the statement that records j's applied statements and the statement in
// flight, clearing any failure. With inline, its values are written as literals, for an
// Exec that also carries script statements (whose text may hold what looks like a bind
// parameter).
func (t *Table) Progress(j *Journal, inline bool) Statement {
	b := t.builder(inline)
	query := "UPDATE " + t.ident(JournalTable) + " SET done = " + b.p(j.Done()) + ", hashes = " + b.p(strings.Join(j.Hashes, ",")) +
		", running = " + b.p(j.Running) + ", failed_line = 0, error = NULL WHERE repository_id = " + b.p(t.repoID)
	return b.statement(query)
}

// RecordProgress runs [Table.Progress] on q.
func (t *Table) RecordProgress(ctx context.Context, q Querier, j *Journal) error {
	st := t.Progress(j, false)
	if _, err := q.ExecContext(ctx, st.Query, st.Args...); err != nil {
		return fmt.Errorf("journalling version %d: %w", j.Version, err)
	}
	return nil
}

// FailJournal records the failure that stopped the version at statement j.Running, with the
// statements j says were applied. An empty msg records an interruption rather than a failure.
// It never lowers the count of applied statements: a session that was dropped to cancel it
// may still have had its last statements committed by the server, and the row then says
// more than j knows.
func (t *Table) FailJournal(ctx context.Context, q Querier, j *Journal, line int, msg string) error {
	b := t.builder(false)
	var failure any
	if msg != "" {
		failure = msg
	}
	query := "UPDATE " + t.ident(JournalTable) + " SET done = " + b.p(j.Done()) + ", hashes = " + b.p(strings.Join(j.Hashes, ",")) +
		", running = " + b.p(j.Running) + ", failed_line = " + b.p(line) + ", error = " + b.p(failure) +
		" WHERE repository_id = " + b.p(t.repoID) + " AND version = " + b.p(j.Version) + " AND done <= " + b.p(j.Done())
	if _, err := q.ExecContext(ctx, query, b.args...); err != nil {
		return fmt.Errorf("journalling a failure: %w", err)
	}
	return nil
}

// DeleteJournal removes the repository's journal row: the version is complete.
func (t *Table) DeleteJournal(ctx context.Context, q Querier) error {
	st := t.deleteJournal()
	if _, err := q.ExecContext(ctx, st.Query, st.Args...); err != nil {
		return fmt.Errorf("clearing %s: %w", JournalTable, err)
	}
	return nil
}

func (t *Table) deleteJournal() Statement {
	b := t.builder(false)
	return b.statement("DELETE FROM " + t.ident(JournalTable) + " WHERE repository_id = " + b.p(t.repoID))
}

// builder writes a statement's values as bind parameters, collecting their arguments, or
// as literals.
type builder struct {
	t      *Table
	inline bool
	args   []any
}

func (t *Table) builder(inline bool) *builder { return &builder{t: t, inline: inline} }

// p returns the placeholder (or literal) for v.
func (b *builder) p(v any) string {
	if b.inline {
		return b.t.d.Literal(v)
	}
	b.args = append(b.args, v)
	return b.t.d.Param(len(b.args))
}

// list returns the placeholders (or literals) of vs, separated by commas.
func (b *builder) list(vs ...any) string {
	ps := make([]string, len(vs))
	for i, v := range vs {
		ps[i] = b.p(v)
	}
	return strings.Join(ps, ", ")
}

func (b *builder) statement(query string) Statement { return Statement{query, b.args} }
