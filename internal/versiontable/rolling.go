package versiontable

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RollingTable is the name of the table that holds a repository's open rolling-upgrade window:
// how far its expand and migrate phases went while the version table still says the last
// fully applied (contracted) version.
const RollingTable = "ratchet_rolling"

// rollingDDL is valid on every supported backend. One row per repository while a window is
// open; none otherwise. The times are RFC 3339 text, readable the same on every backend.
const rollingDDL = `CREATE TABLE IF NOT EXISTS %s (
	repository_id VARCHAR(250) NOT NULL,
	from_version INTEGER NOT NULL,
	target INTEGER NOT NULL,
	expanded INTEGER NOT NULL,
	migrated INTEGER NOT NULL,
	cursor_version INTEGER,
	cursor_value TEXT,
	rows_migrated BIGINT NOT NULL DEFAULT 0,
	online INTEGER NOT NULL DEFAULT 1,
	started_at VARCHAR(40) NOT NULL,
	updated_at VARCHAR(40) NOT NULL,
	PRIMARY KEY (repository_id)
)`

// Window is an open rolling-upgrade window: versions From+1 … Target, expanded up to
// Expanded and migrated up to Migrated (From ≤ contracted ≤ Migrated ≤ Expanded ≤ Target).
type Window struct {
	From, Target       int
	Expanded, Migrated int
	// CursorVersion is the version whose data migration is part way (0 for none), Cursor
	// where its next batch starts and Rows the rows its batches changed so far.
	CursorVersion int
	Cursor        string
	Rows          int64
	// Online is true while every expand part so far ran with its online blocks: the
	// window's triggers must then exist.
	Online    bool
	StartedAt string
	UpdatedAt string
}

// Counter names one of the positions a step moves.
type Counter uint8

const (
	// Applied is the version table's version: the last version fully applied.
	Applied Counter = iota
	// Expanded is the open window's last expanded version.
	Expanded
	// Migrated is the open window's last version whose data migration is complete.
	Migrated
)

// String names the counter in messages.
func (c Counter) String() string {
	switch c {
	case Expanded:
		return "expanded version"
	case Migrated:
		return "migrated version"
	}
	return "version"
}

// Move is what a step records: Counter goes from From to To, only if it still says From.
// Close also removes the window the step completes (the last contract of a window).
type Move struct {
	Counter  Counter
	From, To int
	Close    bool
	Offline  bool // an expand part run offline: its online blocks did not run
}

// VersionMove moves the version table's version from from to to.
func VersionMove(from, to int) Move { return Move{Counter: Applied, From: from, To: to} }

// now is the time written in the window's updated_at.
func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// CreateRolling creates the rolling table if it does not exist. Run it outside a
// transaction: on MySQL it commits.
func (t *Table) CreateRolling(ctx context.Context, q Querier) error {
	if _, err := q.ExecContext(ctx, fmt.Sprintf(rollingDDL, t.ident(RollingTable))); err != nil {
		return fmt.Errorf("creating %s: %w", RollingTable, err)
	}
	return nil
}

// ReadWindow returns the repository's open window, or nil. The table must exist.
func (t *Table) ReadWindow(ctx context.Context, q Querier) (*Window, error) {
	query := "SELECT from_version, target, expanded, migrated, cursor_version, cursor_value, rows_migrated, online, started_at, updated_at FROM " +
		t.ident(RollingTable) + " WHERE repository_id = " + t.d.Param(1)
	var w Window
	var cv sql.NullInt64
	var cursor sql.NullString
	var online int
	err := q.QueryRowContext(ctx, query, t.repoID).Scan(&w.From, &w.Target, &w.Expanded, &w.Migrated, &cv, &cursor, &w.Rows, &online, &w.StartedAt, &w.UpdatedAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", RollingTable, err)
	}
	w.CursorVersion, w.Cursor, w.Online = int(cv.Int64), cursor.String, online != 0
	return &w, nil
}

// OpenWindow opens a window from version from to target, only if the version table still
// says from and no window is open; otherwise it returns [ErrConcurrentUpdate] (or the
// database's duplicate-key error) and the caller rolls back.
func (t *Table) OpenWindow(ctx context.Context, q Querier, from, target int) error {
	b := t.builder(false)
	at := now()
	query := "INSERT INTO " + t.ident(RollingTable) +
		" (repository_id, from_version, target, expanded, migrated, rows_migrated, started_at, updated_at) SELECT " +
		b.list(t.repoID, from, target, from, from, 0, at, at) +
		" FROM " + t.ident(t.name) + " WHERE repository_id = " + b.p(t.repoID) + " AND COALESCE(version, 0) = " + b.p(from)
	res, err := q.ExecContext(ctx, query, b.args...)
	if err != nil {
		return fmt.Errorf("opening the window to version %d in %s: %w", target, RollingTable, err)
	}
	return oneRow(res, fmt.Sprintf("opening the window to version %d", target))
}

// DeleteWindow removes the repository's window: a run that opened it and did nothing of it
// takes it back.
func (t *Table) DeleteWindow(ctx context.Context, q Querier) error {
	b := t.builder(false)
	if _, err := q.ExecContext(ctx, "DELETE FROM "+t.ident(RollingTable)+" WHERE repository_id = "+b.p(t.repoID), b.args...); err != nil {
		return fmt.Errorf("removing the window from %s: %w", RollingTable, err)
	}
	return nil
}

// Checkpoint records a committed batch of version's data migration: where the next batch
// starts and the rows it changed. It touches the row only if the window is still migrating
// version from the cursor the batch started at (cursorVersion 0: none yet); otherwise it
// returns [ErrConcurrentUpdate] and the caller rolls the batch back.
func (t *Table) Checkpoint(ctx context.Context, q Querier, migrated, version, cursorVersion int, cursor, next string, rows int64) error {
	b := t.builder(false)
	query := "UPDATE " + t.ident(RollingTable) + " SET cursor_version = " + b.p(version) + ", cursor_value = " + b.p(next) +
		", rows_migrated = rows_migrated + " + b.p(rows) + ", updated_at = " + b.p(now()) +
		" WHERE repository_id = " + b.p(t.repoID) + " AND migrated = " + b.p(migrated) +
		" AND COALESCE(cursor_version, 0) = " + b.p(cursorVersion) + " AND COALESCE(cursor_value, '') = " + b.p(cursor)
	res, err := q.ExecContext(ctx, query, b.args...)
	if err != nil {
		return fmt.Errorf("recording the data migration of version %d in %s: %w", version, RollingTable, err)
	}
	return oneRow(res, fmt.Sprintf("recording the data migration of version %d", version))
}

// Position returns counter c: the version table's version, or the open window's expanded or
// migrated version — which, with no window open, are the version table's. The version table
// and, for the window's counters, the rolling table must exist.
func (t *Table) Position(ctx context.Context, q Querier, c Counter) (int, error) {
	v, _, err := t.Version(ctx, q)
	if err != nil || c == Applied {
		return v, err
	}
	w, err := t.ReadWindow(ctx, q)
	switch {
	case err != nil:
		return 0, err
	case w == nil:
		return v, nil
	case c == Expanded:
		return w.Expanded, nil
	}
	return w.Migrated, nil
}

// advanceStatements returns the statements that make move mv, the conditional update last so
// that its rows affected are what [Table.CheckAdvanced] checks.
func (t *Table) advanceStatements(mv Move) []Statement {
	if !mv.Close {
		return []Statement{t.advanceStatement(mv)}
	}
	return []Statement{t.closeStatement(mv), t.advanceStatement(mv)}
}

// closeStatement removes the window that move mv, the last contract, completes.
func (t *Table) closeStatement(mv Move) Statement {
	return Statement{"DELETE FROM " + t.ident(RollingTable) + " WHERE repository_id = " + t.d.Param(1) + " AND target = " + t.d.Param(2),
		[]any{t.repoID, mv.To}}
}

// advanceStatement is the conditional update of move mv: it runs once per version, so it is
// written without a builder.
func (t *Table) advanceStatement(mv Move) Statement {
	p := t.d.Param
	switch mv.Counter {
	case Expanded:
		online := ""
		if mv.Offline {
			online = ", online = 0"
		}
		return Statement{"UPDATE " + t.ident(RollingTable) + " SET expanded = " + p(1) + online + ", updated_at = " + p(2) +
			" WHERE repository_id = " + p(3) + " AND expanded = " + p(4), []any{mv.To, now(), t.repoID, mv.From}}
	case Migrated:
		// The data migration's cursor belonged to this version: the next starts afresh.
		return Statement{"UPDATE " + t.ident(RollingTable) + " SET migrated = " + p(1) +
			", cursor_version = NULL, cursor_value = NULL, rows_migrated = 0, updated_at = " + p(2) +
			" WHERE repository_id = " + p(3) + " AND migrated = " + p(4), []any{mv.To, now(), t.repoID, mv.From}}
	}
	// COALESCE: the legacy schema allows a NULL version, which reads as 0.
	return Statement{"UPDATE " + t.ident(t.name) + " SET version = " + p(1) +
		" WHERE repository_id = " + p(2) + " AND COALESCE(version, 0) = " + p(3), []any{mv.To, t.repoID, mv.From}}
}

// positionSource returns the table and column a journal claim checks for counter c.
func (t *Table) positionSource(c Counter) (table, column string) {
	switch c {
	case Expanded:
		return RollingTable, "expanded"
	case Migrated:
		return RollingTable, "migrated"
	}
	return t.name, "COALESCE(version, 0)"
}

// oneRow checks that a conditional write touched its one row: otherwise another process
// moved what it was conditional on ([ErrConcurrentUpdate]), and the caller rolls back.
func oneRow(res sql.Result, what string) error {
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%s: %w", what, ErrConcurrentUpdate)
	}
	return nil
}
