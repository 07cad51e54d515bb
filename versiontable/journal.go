package versiontable

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// JournalTable is the name of the table that records the progress of a version that cannot
// run in one transaction (DDL on MySQL/MariaDB, `-- ratchet:no-transaction` scripts).
const JournalTable = "ratchet_journal"

// journalDDL is valid on every supported backend. One row per repository: at most one version
// is in flight at a time.
const journalDDL = `CREATE TABLE IF NOT EXISTS ratchet_journal (
	repository_id VARCHAR(250) NOT NULL,
	version INTEGER NOT NULL,
	script VARCHAR(512) NOT NULL,
	total INTEGER NOT NULL,
	done INTEGER NOT NULL,
	hashes TEXT NOT NULL,
	failed_line INTEGER NOT NULL,
	error TEXT,
	PRIMARY KEY (repository_id)
)`

// Journal is the progress of one version applied statement by statement.
type Journal struct {
	Version int
	Script  string
	Total   int      // statements in the script
	Hashes  []string // hashes of the statements applied so far, in order
	// Error is the failure that stopped the version, "" while it runs or when the process
	// died before it could record one.
	Error      string
	FailedLine int // line of the failing statement, 0 when unknown
}

// Done returns the number of statements applied.
func (j *Journal) Done() int { return len(j.Hashes) }

// CreateJournal creates the journal table if it does not exist.
func (t *Table) CreateJournal(ctx context.Context, q Querier) error {
	if _, err := q.ExecContext(ctx, journalDDL); err != nil {
		return fmt.Errorf("creating %s: %w", JournalTable, err)
	}
	return nil
}

// ReadJournal returns the repository's journal, or nil when no version is in flight. The
// journal table must exist.
func (t *Table) ReadJournal(ctx context.Context, q Querier) (*Journal, error) {
	query := "SELECT version, script, total, hashes, failed_line, error FROM " + JournalTable +
		" WHERE repository_id = " + t.d.Param(1)
	var j Journal
	var hashes string
	var msg sql.NullString
	err := q.QueryRowContext(ctx, query, t.repoID).Scan(&j.Version, &j.Script, &j.Total, &hashes, &j.FailedLine, &msg)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", JournalTable, err)
	}
	if hashes != "" {
		j.Hashes = strings.Split(hashes, ",")
	}
	j.Error = msg.String
	return &j, nil
}

// StartJournal records that version starts (or restarts) with the given statements already
// applied, replacing any previous row of the repository. Run it in a transaction: between
// the removal of the old row and the insertion of the new one, a crash would lose the record
// of a version applied part way.
func (t *Table) StartJournal(ctx context.Context, q Querier, j *Journal) error {
	if err := t.DeleteJournal(ctx, q); err != nil {
		return err
	}
	return t.InsertJournal(ctx, q, j)
}

// InsertJournal records that version starts, when the repository has no journal row.
func (t *Table) InsertJournal(ctx context.Context, q Querier, j *Journal) error {
	query := "INSERT INTO " + JournalTable + " (repository_id, version, script, total, done, hashes, failed_line, error) VALUES (" +
		t.params(7) + ", NULL)"
	_, err := q.ExecContext(ctx, query, t.repoID, j.Version, j.Script, j.Total, j.Done(), strings.Join(j.Hashes, ","), 0)
	if err != nil {
		return fmt.Errorf("journalling version %d: %w", j.Version, err)
	}
	return nil
}

// ClaimJournalStatement records that j's version starts from version from, in one statement
// that inserts the row only if the version table still says from; [Table.Claimed] tells from
// its result whether it did. The repository must have no journal row.
func (t *Table) ClaimJournalStatement(j *Journal, from int) Statement {
	query := "INSERT INTO " + JournalTable + " (repository_id, version, script, total, done, hashes, failed_line, error) SELECT " +
		t.params(7) + ", NULL FROM " + t.d.Ident(t.name) + " WHERE repository_id = " + t.d.Param(8) +
		" AND COALESCE(version, 0) = " + t.d.Param(9)
	return Statement{query, []any{t.repoID, j.Version, j.Script, j.Total, j.Done(), strings.Join(j.Hashes, ","), 0, t.repoID, from}}
}

// Claimed reports whether the claim whose result is res inserted the journal row.
func (t *Table) Claimed(res sql.Result, j *Journal) (bool, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("journalling version %d: %w", j.Version, err)
	}
	return n == 1, nil
}

// AdvanceJournal records one more applied statement.
func (t *Table) AdvanceJournal(ctx context.Context, q Querier, j *Journal) error {
	query := "UPDATE " + JournalTable + " SET done = " + t.d.Param(1) + ", hashes = " + t.d.Param(2) +
		" WHERE repository_id = " + t.d.Param(3)
	if _, err := q.ExecContext(ctx, query, j.Done(), strings.Join(j.Hashes, ","), t.repoID); err != nil {
		return fmt.Errorf("journalling version %d: %w", j.Version, err)
	}
	return nil
}

// FailJournal records the failure that stopped the version, with the statements j says
// were applied. An empty msg records an interruption rather than a failure.
func (t *Table) FailJournal(ctx context.Context, q Querier, j *Journal, line int, msg string) error {
	query := "UPDATE " + JournalTable + " SET done = " + t.d.Param(1) + ", hashes = " + t.d.Param(2) +
		", failed_line = " + t.d.Param(3) + ", error = " + t.d.Param(4) + " WHERE repository_id = " + t.d.Param(5)
	failure := sql.NullString{String: msg, Valid: msg != ""}
	if _, err := q.ExecContext(ctx, query, j.Done(), strings.Join(j.Hashes, ","), line, failure, t.repoID); err != nil {
		return fmt.Errorf("journalling a failure: %w", err)
	}
	return nil
}

// DeleteJournal removes the repository's journal row: the version is complete.
func (t *Table) DeleteJournal(ctx context.Context, q Querier) error {
	st := t.deleteJournalStatement()
	if _, err := q.ExecContext(ctx, st.Query, st.Args...); err != nil {
		return fmt.Errorf("clearing %s: %w", JournalTable, err)
	}
	return nil
}

func (t *Table) deleteJournalStatement() Statement {
	return Statement{"DELETE FROM " + JournalTable + " WHERE repository_id = " + t.d.Param(1), []any{t.repoID}}
}

// params returns n bind parameters separated by commas.
func (t *Table) params(n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = t.d.Param(i + 1)
	}
	return strings.Join(ps, ", ")
}
