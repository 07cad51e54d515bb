package ratchet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/repository"
	"github.com/ratchetdb/ratchet/sqlsplit"
	"github.com/ratchetdb/ratchet/internal/versiontable"
)

// applyJournalled applies a version that cannot run in one transaction, statement by
// statement on one session, recording the applied statements in the journal (see
// runJournalled). When all statements ran, the version update, the history row and the
// removal of the journal commit together.
func (m *Migrator) applyJournalled(ctx context.Context, conn *sql.Conn, step Step) (*AppliedVersion, error) {
	j := &versiontable.Journal{Version: step.Version, Script: step.Script.Path, Total: max(1, len(step.Statements))}
	for _, st := range step.Statements[:step.ResumeAt] {
		j.Hashes = append(j.Hashes, statementHash(st.Text))
	}
	pending, skip, err := m.startJournal(ctx, conn, step, j)
	if err != nil || skip {
		return nil, err
	}
	m.emit(Event{Kind: VersionStarted, From: step.From, Version: step.Version, Script: step.Script.Path})
	start := m.cfg.now()
	n, err := m.runJournalled(ctx, conn, step, j)
	if err != nil {
		if pending && j.Done() == 0 && m.claimRolledBack(ctx, conn) {
			// The first statement never ran (a syntax error; an interruption before it), so
			// neither did its implicit commit: the version did not start.
			return nil, contextError(ctx, err)
		}
		return nil, m.stopped(ctx, conn, step, j, n, err)
	}
	applied, err := m.finishJournalled(ctx, conn, step, start, n)
	if err != nil {
		// Every statement ran: the journal records them all, and the next run finishes the
		// version with --resume.
		return nil, m.stopped(ctx, conn, step, j, n, err)
	}
	m.emitApplied(step, applied)
	return applied, nil
}

// claimRolledBack ends the transaction a pending journal claim may have left open, and
// reports whether that removed the claim: true when the version's first statement never
// committed it. False when it did, or when the session is gone.
func (m *Migrator) claimRolledBack(ctx context.Context, conn *sql.Conn) bool {
	detached := context.WithoutCancel(ctx)
	if _, err := conn.ExecContext(detached, "ROLLBACK"); err != nil {
		return false
	}
	j, err := m.table.ReadJournal(detached, conn)
	return err == nil && j == nil
}

// finishJournalled records a journalled step applied: the conditional version update, the
// history row and the removal of the journal commit together. Where the connection takes
// several statements with arguments in one Exec (MySQL), that takes two round trips.
func (m *Migrator) finishJournalled(ctx context.Context, conn *sql.Conn, step Step, start time.Time, n int) (*AppliedVersion, error) {
	if !m.dialect.TransactionalDDL && m.multiStatementExec(ctx, conn) {
		e := m.entry(step, start, n)
		res, err := startTransactionWith(ctx, conn, m.table.FinishJournalStatements(step.From, step.Version, e)...)
		if err != nil {
			return nil, err
		}
		if err = m.table.CheckAdvanced(res, step.From, step.Version); err == nil {
			_, err = conn.ExecContext(ctx, "COMMIT")
		}
		if err != nil {
			return nil, errors.Join(err, rollback(ctx, conn))
		}
		return &AppliedVersion{Version: step.Version, Script: step.Script.Path, Statements: n, Duration: e.Duration}, nil
	}
	var applied *AppliedVersion
	err := inTx(ctx, conn, func(tx *sql.Tx) error {
		var err error
		if applied, err = m.finish(ctx, tx, step, start, n); err != nil {
			return err
		}
		return m.table.DeleteJournal(ctx, tx)
	})
	return applied, err
}

// startTransactionWith starts a transaction and runs statements in it, all in one Exec, and
// returns the result of the last statement. The transaction is left open for the caller to
// end, unless the Exec failed. Only for connections that take several statements with
// arguments in one Exec (see [dialect.Dialect.MultiStatementProbe]).
func startTransactionWith(ctx context.Context, conn *sql.Conn, stmts ...versiontable.Statement) (sql.Result, error) {
	queries := []string{"START TRANSACTION"}
	var args []any
	for _, st := range stmts {
		queries = append(queries, st.Query)
		args = append(args, st.Args...)
	}
	res, err := conn.ExecContext(ctx, strings.Join(queries, ";\n"), args...)
	if err != nil {
		return nil, errors.Join(err, rollback(ctx, conn))
	}
	return res, nil
}

// rollback ends the transaction open on conn, even when ctx is cancelled. A lost session
// is no error: the server has rolled the transaction back itself.
func rollback(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); err != nil && !connectionLost(err) {
		return fmt.Errorf("rolling back: %w", err)
	}
	return nil
}

// startJournal records that the step starts, unless another process applied it meanwhile
// (skip). A fresh attempt whose first statement commits implicitly (DDL on MySQL) starts a
// transaction and claims its journal row in one round trip, and leaves the transaction open:
// that statement commits it before it runs. That saves a commit per version, and the row is
// still durable before anything of the version is (pending then reports the open
// transaction). A resumed or retried version replaces the row of the
// attempt that stopped, atomically: a crash in between would lose the record of what it
// applied.
func (m *Migrator) startJournal(ctx context.Context, conn *sql.Conn, step Step, j *versiontable.Journal) (pending, skip bool, err error) {
	if !step.Recovering && m.commitsImplicitly(step) && m.multiStatementExec(ctx, conn) {
		res, err := startTransactionWith(ctx, conn, m.table.ClaimJournalStatement(j, step.From))
		if err != nil {
			return false, false, err
		}
		claimed, err := m.table.Claimed(res, j)
		if claimed && err == nil {
			return true, false, nil
		}
		if rerr := rollback(ctx, conn); rerr != nil {
			err = errors.Join(err, rerr)
		}
		if err != nil {
			return false, false, err
		}
		// The version moved: applied meanwhile, or changed under the run (as in claim).
		skip, err := m.checkCurrent(ctx, conn, step)
		if err == nil && !skip {
			err = fmt.Errorf("journalling version %d: %w", step.Version, versiontable.ErrConcurrentUpdate)
		}
		return false, skip, err
	}
	if skip, err := m.checkCurrent(ctx, conn, step); err != nil || skip {
		return false, skip, err
	}
	if step.Recovering {
		return false, false, inTx(ctx, conn, func(tx *sql.Tx) error { return m.table.StartJournal(ctx, tx, j) })
	}
	return false, false, m.table.InsertJournal(ctx, conn, j)
}

// commitsImplicitly reports whether the step's first statement to run commits any open
// transaction before it runs (DDL on MySQL, MariaDB).
func (m *Migrator) commitsImplicitly(step Step) bool {
	if step.Script.Kind != repository.SQL || step.ResumeAt >= len(step.Statements) {
		return false
	}
	return m.dialect.CommitsImplicitly(step.Statements[step.ResumeAt].Text)
}

// runJournalled runs the step's statements from step.ResumeAt and returns how many ran.
//
// Consecutive statements that the database can roll back (DML on MySQL) run in one
// transaction that also records them in the journal: they are applied and journalled
// together or not at all. A statement that commits on its own (DDL on MySQL, every statement
// of a no-transaction script) runs outside any transaction, and its journal entry is written
// with the next transaction (or when the version stops or ends): an extra commit per
// statement would double the cost of DDL. So after a crash the journal may lag behind by the
// statements of that kind run since its last entry, and --resume runs them again; after a
// failure it is exact.
func (m *Migrator) runJournalled(ctx context.Context, conn *sql.Conn, step Step, j *versiontable.Journal) (int, error) {
	if step.Script.Kind == repository.Go {
		err := inTx(ctx, conn, func(tx *sql.Tx) error {
			if err := step.Script.Up(dialect.NewContext(ctx, m.dialect), tx); err != nil {
				return &ScriptError{Version: step.Version, Script: step.Script.Path, Err: err}
			}
			return nil
		})
		if err == nil {
			j.Hashes = append(j.Hashes, "go")
		}
		return 0, err
	}
	noTx := sqlsplit.NoTransaction(step.Script.SQL)
	rollsBack := func(st sqlsplit.Statement) bool {
		return !noTx && (m.dialect.TransactionalDDL || m.dialect.RollbackableStatements[sqlsplit.Keyword(st.Text)])
	}
	stmts := step.Statements
	n := 0
	for i := step.ResumeAt; i < len(stmts); {
		if !rollsBack(stmts[i]) {
			if !m.skipTransactionControl(step, stmts[i]) {
				if err := m.exec(ctx, conn, step, stmts[i]); err != nil {
					return n, err
				}
				n++
			}
			j.Hashes = append(j.Hashes, statementHash(stmts[i].Text))
			i++
			continue
		}
		end := i + 1
		for end < len(stmts) && rollsBack(stmts[end]) {
			end++
		}
		ran, err := locateFailure(func(mode runMode) (int, error) {
			return m.runGroup(ctx, conn, step, j, stmts[i:end], mode)
		})
		if err != nil {
			return n, err
		}
		n += ran
		i = end
	}
	return n, nil
}

// runGroup runs consecutive statements that the database can roll back in one transaction
// that also records them in the journal: they are applied and journalled together or not at
// all. It returns how many statements ran.
func (m *Migrator) runGroup(ctx context.Context, conn *sql.Conn, step Step, j *versiontable.Journal, group []sqlsplit.Statement, mode runMode) (ran int, err error) {
	mark := len(j.Hashes)
	err = inTx(ctx, conn, func(tx *sql.Tx) error {
		var err error
		if ran, err = m.runStatements(ctx, tx, step, group, mode); err != nil {
			return err
		}
		for _, st := range group {
			j.Hashes = append(j.Hashes, statementHash(st.Text))
		}
		return m.table.AdvanceJournal(ctx, tx, j)
	})
	if err != nil {
		j.Hashes = j.Hashes[:mark] // rolled back: none of the group is applied
	}
	return ran, err
}

// stopped records in the journal why the version stopped, and returns the error to report.
// It writes with a context that is not cancelled, on the run's session or, if that session is
// gone (the driver drops it to cancel a statement; the server restarted), on a new one. An
// interruption is recorded without a message: the journal then says the version "was
// interrupted", not that its script failed.
// ran is the number of statements this attempt ran and kept (skipped ones do not count).
func (m *Migrator) stopped(ctx context.Context, conn *sql.Conn, step Step, j *versiontable.Journal, ran int, err error) error {
	line, msg := 0, ""
	var se *ScriptError
	if errors.As(err, &se) {
		if ran == 0 && step.Script.Kind == repository.SQL && !se.ConnectionLost && !step.Recovering {
			// The first statement of a fresh attempt failed: nothing of the version is
			// applied, so it failed as a transactional version does, and the next run may
			// simply try it again.
			if derr := m.table.DeleteJournal(context.WithoutCancel(ctx), conn); derr != nil {
				err = errors.Join(err, derr)
			}
			return contextError(ctx, err)
		}
		se.Journalled, se.Applied, se.Total = true, j.Done(), j.Total
		if !se.ConnectionLost {
			line, msg = se.Line, se.Err.Error()
		}
	}
	detached := context.WithoutCancel(ctx)
	ferr := m.table.FailJournal(detached, conn, j, line, msg)
	if ferr != nil && connectionLost(ferr) && m.dialect.Lock != nil {
		// Only servers: an SQLite pool has the one connection, which never breaks.
		fctx, cancel := context.WithTimeout(detached, 5*time.Second)
		ferr = m.table.FailJournal(fctx, m.db, j, line, msg)
		cancel()
	}
	if ferr != nil && !connectionLost(ferr) {
		err = errors.Join(err, ferr)
	}
	if ctx.Err() != nil {
		// Not contextError: what ran of this version could not be rolled back.
		return fmt.Errorf("interrupted: version %d stopped after statement %d of %d, which stay applied; run `db sync --resume` or `db sync --retry`: %w",
			step.Version, j.Done(), j.Total, ctx.Err())
	}
	return err
}
