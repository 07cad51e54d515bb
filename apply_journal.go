package ratchet

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/repository"
	"github.com/ratchetdb/ratchet/sqlsplit"
	"github.com/ratchetdb/ratchet/versiontable"
)

// applyJournalled applies a version that cannot run in one transaction, statement by
// statement on one session, recording each applied statement in the journal. Where the
// dialect allows it, a statement and its journal update commit together (DML on MySQL), so
// the journal never lags; DDL commits on its own, so a crash right after one leaves the
// journal one statement behind, which --resume reports as a changed-state error rather than
// guessing. When all statements ran, the version update, the history row and the removal of
// the journal commit together.
func (m *Migrator) applyJournalled(ctx context.Context, step Step) (*AppliedVersion, error) {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return nil, contextError(ctx, err)
	}
	defer conn.Close()
	if skip, err := m.checkCurrent(ctx, conn, step); err != nil || skip {
		return nil, err
	}
	j := &versiontable.Journal{Version: step.Version, Script: step.Script.Path, Total: max(1, len(step.Statements))}
	for _, st := range step.Statements[:step.ResumeAt] {
		j.Hashes = append(j.Hashes, statementHash(st.Text))
	}
	if err := m.table.StartJournal(ctx, conn, j); err != nil {
		return nil, err
	}
	m.emit(Event{Kind: VersionStarted, From: step.From, Version: step.Version, Script: step.Script.Path})
	start := m.cfg.now()
	n, err := m.runJournalled(ctx, conn, step, j)
	if err != nil {
		conn.Close() // the pool may have a single connection (SQLite): give it back first
		return nil, m.stopped(ctx, j, err)
	}
	var applied *AppliedVersion
	err = inConnTx(ctx, conn, func(tx *sql.Tx) error {
		var err error
		if applied, err = m.finish(ctx, tx, step, start, n); err != nil {
			return err
		}
		return m.table.DeleteJournal(ctx, tx)
	})
	if err != nil {
		return nil, contextError(ctx, err)
	}
	m.emitApplied(step, applied)
	return applied, nil
}

// runJournalled runs the step's statements from step.ResumeAt and returns how many ran.
func (m *Migrator) runJournalled(ctx context.Context, conn *sql.Conn, step Step, j *versiontable.Journal) (int, error) {
	if step.Script.Kind == repository.Go {
		err := inConnTx(ctx, conn, func(tx *sql.Tx) error {
			if err := step.Script.Up(dialect.NewContext(ctx, m.dialect), tx); err != nil {
				return &ScriptError{Version: step.Version, Script: step.Script.Path, Err: err}
			}
			j.Hashes = append(j.Hashes, "go")
			return m.table.AdvanceJournal(ctx, tx, j)
		})
		return 0, err
	}
	noTx := sqlsplit.NoTransaction(step.Script.SQL)
	n := 0
	for _, st := range step.Statements[step.ResumeAt:] {
		run := func(q versiontable.Querier) error {
			if !m.skipTransactionControl(step, st) {
				if err := m.exec(ctx, q, step, st); err != nil {
					return err
				}
				n++
			}
			j.Hashes = append(j.Hashes, statementHash(st.Text))
			return m.table.AdvanceJournal(ctx, q, j)
		}
		var err error
		if noTx {
			err = run(conn)
		} else {
			err = inConnTx(ctx, conn, func(tx *sql.Tx) error { return run(tx) })
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// stopped records in the journal why the version stopped, and returns the error to report.
// It writes through a fresh connection with a context that is not cancelled: after an
// interrupt, the session that ran the statement may be gone.
func (m *Migrator) stopped(ctx context.Context, j *versiontable.Journal, err error) error {
	line, msg := 0, "interrupted"
	var se *ScriptError
	if errors.As(err, &se) {
		line, msg = se.Line, se.Err.Error()
		se.Journalled, se.Applied, se.Total = true, j.Done(), j.Total
	}
	if ferr := m.table.FailJournal(context.WithoutCancel(ctx), m.db, line, msg); ferr != nil {
		err = errors.Join(err, ferr)
	}
	return contextError(ctx, err)
}

// inConnTx runs fn in a transaction on conn.
func inConnTx(ctx context.Context, conn *sql.Conn, fn func(*sql.Tx) error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
