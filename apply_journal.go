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
func (m *Migrator) applyJournalled(ctx context.Context, conn *sql.Conn, step Step) (*AppliedVersion, error) {
	if skip, err := m.checkCurrent(ctx, conn, step); err != nil || skip {
		return nil, err
	}
	j := &versiontable.Journal{Version: step.Version, Script: step.Script.Path, Total: max(1, len(step.Statements))}
	for _, st := range step.Statements[:step.ResumeAt] {
		j.Hashes = append(j.Hashes, statementHash(st.Text))
	}
	if err := inTx(ctx, conn, func(tx *sql.Tx) error { return m.table.StartJournal(ctx, tx, j) }); err != nil {
		return nil, err
	}
	m.emit(Event{Kind: VersionStarted, From: step.From, Version: step.Version, Script: step.Script.Path})
	start := m.cfg.now()
	n, err := m.runJournalled(ctx, conn, step, j)
	if err != nil {
		return nil, m.stopped(ctx, conn, j, err)
	}
	var applied *AppliedVersion
	err = inTx(ctx, conn, func(tx *sql.Tx) error {
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
		err := inTx(ctx, conn, func(tx *sql.Tx) error {
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
			err = inTx(ctx, conn, func(tx *sql.Tx) error { return run(tx) })
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// stopped records in the journal why the version stopped, and returns the error to report.
// It writes with a context that is not cancelled, on the run's session; if that session is
// gone (the server restarted), the journal keeps saying the version was interrupted, which
// is true.
func (m *Migrator) stopped(ctx context.Context, conn *sql.Conn, j *versiontable.Journal, err error) error {
	line, msg := 0, "interrupted"
	var se *ScriptError
	if errors.As(err, &se) {
		line, msg = se.Line, se.Err.Error()
		se.Journalled, se.Applied, se.Total = true, j.Done(), j.Total
	}
	if ferr := m.table.FailJournal(context.WithoutCancel(ctx), conn, line, msg); ferr != nil && !connectionLost(ferr) {
		err = errors.Join(err, ferr)
	}
	return contextError(ctx, err)
}
