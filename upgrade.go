package ratchet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/repository"
	"github.com/ratchetdb/ratchet/sqlsplit"
	"github.com/ratchetdb/ratchet/versiontable"
)

// Result is what an upgrade did.
type Result struct {
	Start   int  // the version before
	End     int  // the version after
	Stamped bool // the database was empty and was put under version control at 0 first
	Applied []AppliedVersion
}

// AppliedVersion is one version applied by this run.
type AppliedVersion struct {
	Version    int
	Script     string
	Statements int
	Duration   time.Duration
}

// Upgrade brings the database to target ([Latest] for the repository's latest version).
//
// Everything that can be checked without running a script is checked first (see
// [Migrator.Plan]); then an empty database is put under version control at 0, and each version
// runs in its own transaction together with its version update and history row, so a crash
// leaves the database at one version or the next, never between. Versions applied meanwhile by
// another process are skipped. On failure the result holds what was applied before it and the
// error is a [*ScriptError] for a failing script; a target equal to the current version does
// nothing and is not an error.
func (m *Migrator) Upgrade(ctx context.Context, target int, opts ...UpgradeOption) (*Result, error) {
	res, err := m.upgrade(ctx, target, opts)
	return res, m.busy(err)
}

func (m *Migrator) upgrade(ctx context.Context, target int, opts []UpgradeOption) (res *Result, err error) {
	if target < Latest {
		return nil, &InvalidVersionError{Version: target}
	}
	uc := upgradeSettings(opts)
	conn, release, err := m.session(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	st, err := m.plannableState(ctx, conn)
	if err != nil {
		return nil, err
	}
	plan, err := m.plan(st, target, uc)
	if err != nil {
		return nil, err
	}
	if uc.atomic {
		if err := m.checkAtomic(plan); err != nil {
			return nil, err
		}
	}
	if !uc.skipSanityCheck {
		if err := m.sanityCheck(ctx, conn); err != nil {
			return nil, err
		}
	}
	apply := m.apply
	if uc.atomic {
		apply = m.applyAtomic
	}
	if m.dialect.Name == dialect.SQLite.Name && (len(plan.Steps) > 0 || !plan.Controlled) {
		// Only a run that writes holds the file: an up-to-date database is left to others.
		restore, herr := holdSQLiteFile(ctx, conn)
		if herr != nil {
			return nil, herr
		}
		defer func() {
			if restoreErr := restore(context.WithoutCancel(ctx)); restoreErr != nil && err == nil {
				err = restoreErr
			}
		}()
	}
	res, err = apply(ctx, conn, plan)
	if err != nil {
		return res, err
	}
	// Checked again only if versions ran: otherwise the answer is the one before.
	if !uc.skipSanityCheck && len(res.Applied) > 0 {
		if err := m.sanityCheck(ctx, conn); err != nil {
			return res, err
		}
	}
	return res, nil
}

// apply stamps an empty database and applies the plan's steps.
func (m *Migrator) apply(ctx context.Context, conn *sql.Conn, plan *Plan) (*Result, error) {
	res := &Result{Start: plan.Current, End: plan.Current}
	if !plan.Controlled {
		stamped, err := m.stampEmpty(ctx, conn)
		if err != nil {
			return nil, err
		}
		res.Stamped = stamped
		if stamped {
			m.emit(Event{Kind: Stamped})
		}
	}
	if len(plan.Steps) == 0 {
		return res, nil
	}
	if err := m.table.CreateHistory(ctx, conn); err != nil {
		return res, err
	}
	if slices.ContainsFunc(plan.Steps, func(s Step) bool { return s.Journalled }) {
		if err := m.table.CreateJournal(ctx, conn); err != nil {
			return res, err
		}
	}
	for _, step := range plan.Steps {
		apply := m.applyStep
		if step.Journalled || step.Recovering {
			// A resumed or retried version continues its journal, which its completion
			// removes, even if its script would now run in one transaction.
			apply = m.applyJournalled
		}
		applied, err := apply(ctx, conn, step)
		if err != nil {
			return res, err
		}
		if applied != nil {
			res.Applied = append(res.Applied, *applied)
		}
		res.End = step.Version
	}
	return res, nil
}

// stampEmpty puts an empty database under version control at 0, unless another process did
// it first. It reports whether this call stamped it.
func (m *Migrator) stampEmpty(ctx context.Context, conn *sql.Conn) (stamped bool, err error) {
	err = inTx(ctx, conn, func(tx *sql.Tx) error {
		st, err := m.readState(ctx, tx)
		if err != nil {
			return err
		}
		if st.controlled {
			return nil
		}
		if err := st.controllable(); err != nil {
			return err
		}
		stamped = true
		return m.stamp(ctx, tx, st, 0)
	})
	return stamped, err
}

// applyStep applies one version in one transaction with its bookkeeping. It returns nil, nil
// when another process applied the version first.
func (m *Migrator) applyStep(ctx context.Context, conn *sql.Conn, step Step) (*AppliedVersion, error) {
	return locateFailure(func(mode runMode) (*AppliedVersion, error) {
		return m.applyStepMode(ctx, conn, step, mode)
	})
}

// locateFailure runs run batched and, if a batch failed without saying where (the run then
// rolled back), again statement by statement, to report the failing statement's file:line
// (or to succeed, if only the batch failed).
func locateFailure[T any](run func(runMode) (T, error)) (T, error) {
	v, err := run(batched)
	var failed *errBatchFailed
	if errors.As(err, &failed) {
		return run(locating)
	}
	return v, err
}

func (m *Migrator) applyStepMode(ctx context.Context, conn *sql.Conn, step Step, mode runMode) (*AppliedVersion, error) {
	var applied *AppliedVersion
	err := inTx(ctx, conn, func(tx *sql.Tx) error {
		if skip, err := m.claim(ctx, tx, step); err != nil || skip {
			return err
		}
		m.emit(Event{Kind: VersionStarted, From: step.From, Version: step.Version, Script: step.Script.Path})
		start := m.cfg.now()
		n, err := m.runScript(ctx, tx, step, mode)
		if err != nil {
			return err
		}
		applied, err = m.record(ctx, tx, step, start, n)
		return err
	})
	if err != nil {
		return nil, contextError(ctx, err)
	}
	m.emitApplied(step, applied)
	return applied, nil
}

// checkCurrent re-reads the version in the step's transaction or session: skip is true
// when another process applied the step meanwhile.
func (m *Migrator) checkCurrent(ctx context.Context, q versiontable.Querier, step Step) (skip bool, err error) {
	cur, _, err := m.table.Version(ctx, q)
	switch {
	case err != nil:
		return false, err
	case cur >= step.Version:
		return true, nil
	case cur != step.From:
		return false, fmt.Errorf("version %d cannot be applied: the database is at version %d (changed by another process?)", step.Version, cur)
	}
	return false, nil
}

// claim moves the version to the step's in the step's transaction, before its script runs:
// one statement both proves that no other process moved the version and holds the version
// row until the commit. When the row had moved, skip is true if another process applied the
// step meanwhile; otherwise the version changed under the run and that is an error.
func (m *Migrator) claim(ctx context.Context, tx *sql.Tx, step Step) (skip bool, err error) {
	err = m.table.Advance(ctx, tx, step.From, step.Version)
	if !errors.Is(err, versiontable.ErrConcurrentUpdate) {
		return false, err
	}
	if skip, curErr := m.checkCurrent(ctx, tx, step); curErr != nil || skip {
		return skip, curErr
	}
	return false, err
}

// finish records an applied step: the conditional version update and the history row.
func (m *Migrator) finish(ctx context.Context, q versiontable.Querier, step Step, start time.Time, n int) (*AppliedVersion, error) {
	if err := m.table.Advance(ctx, q, step.From, step.Version); err != nil {
		return nil, err
	}
	return m.record(ctx, q, step, start, n)
}

// record writes an applied step's history row.
func (m *Migrator) record(ctx context.Context, q versiontable.Querier, step Step, start time.Time, n int) (*AppliedVersion, error) {
	e := m.entry(step, start, n)
	if err := m.table.Record(ctx, q, e); err != nil {
		return nil, err
	}
	return &AppliedVersion{Version: step.Version, Script: step.Script.Path, Statements: n, Duration: e.Duration}, nil
}

// entry is the history row of a step that started at start and ran n statements.
func (m *Migrator) entry(step Step, start time.Time, n int) versiontable.Entry {
	return versiontable.Entry{
		Version:    step.Version,
		Phase:      step.Script.Operation,
		Script:     step.Script.Path,
		Checksum:   step.Script.Checksum(),
		AppliedAt:  start,
		Duration:   m.cfg.now().Sub(start),
		Statements: n,
		AppliedBy:  m.cfg.appliedBy,
	}
}

func (m *Migrator) emitApplied(step Step, a *AppliedVersion) {
	if a != nil {
		m.emit(Event{Kind: VersionApplied, From: step.From, Version: a.Version, Script: a.Script,
			Statements: a.Statements, Duration: a.Duration})
	}
}

// runMode says how runScript sends a script's statements.
type runMode int

const (
	// batched sends all statements of a version in one round trip where the dialect allows
	// it. A failure is then located by running the version again statement by statement.
	batched runMode = iota
	// locating sends each statement on its own, after a batch failed: the warnings about
	// skipped statements were already given.
	locating
)

// errBatchFailed wraps the error of a batch whose failing statement is not known yet.
type errBatchFailed struct{ err error }

func (e *errBatchFailed) Error() string { return e.err.Error() }
func (e *errBatchFailed) Unwrap() error { return e.err }

// runScript runs a step's script on tx and returns the number of statements it ran.
func (m *Migrator) runScript(ctx context.Context, tx *sql.Tx, step Step, mode runMode) (int, error) {
	s := step.Script
	if s.Kind == repository.Go {
		if err := s.Up(dialect.NewContext(ctx, m.dialect), tx); err != nil {
			return 0, &ScriptError{Version: step.Version, Script: s.Path, Err: err}
		}
		return 0, nil
	}
	return m.runStatements(ctx, tx, step, step.Statements, mode)
}

// runnable returns the statements of a step to run: BEGIN/COMMIT lines are skipped with a
// warning, given once (not again when locating), and a script with nothing left to run is
// warned about.
func (m *Migrator) runnable(step Step, stmts []sqlsplit.Statement, mode runMode) []sqlsplit.Statement {
	var run []sqlsplit.Statement
	for _, st := range stmts {
		if mode == locating && sqlsplit.IsTransactionControl(st.Text) || m.skipTransactionControl(step, st) {
			continue
		}
		run = append(run, st)
	}
	if len(run) == 0 && len(stmts) == len(step.Statements) && mode != locating {
		m.emit(Event{Kind: Warning, Version: step.Version, Script: step.Script.Path,
			Message: fmt.Sprintf("%s has no statements to run; version %d is recorded as applied", step.Script.Path, step.Version)})
	}
	return run
}

// runStatements runs statements of a step's script on q, all in one round trip when the
// mode and the connection allow it, and returns how many it ran.
func (m *Migrator) runStatements(ctx context.Context, q versiontable.Querier, step Step, stmts []sqlsplit.Statement, mode runMode) (int, error) {
	run := m.runnable(step, stmts, mode)
	if mode == batched && len(run) > 1 && m.multiStatementExec(ctx, q) {
		var b batch
		for _, st := range run {
			b.add(&step, st)
		}
		if err := b.exec(ctx, q); err != nil {
			return 0, err
		}
		return len(run), nil
	}
	for i, st := range run {
		if err := m.exec(ctx, q, step, st); err != nil {
			return i, err
		}
	}
	return len(run), nil
}

// multiStatementExec reports whether one Exec on q may carry several statements. Where the
// dialect leaves it to the connection, the first call asks the database once for the
// Migrator: every connection of a pool is opened from the same DSN.
func (m *Migrator) multiStatementExec(ctx context.Context, q versiontable.Querier) bool {
	if m.dialect.MultiStatementExec || m.dialect.MultiStatementProbe == "" {
		return m.dialect.MultiStatementExec
	}
	m.multi.Lock()
	defer m.multi.Unlock()
	if m.multi.known {
		return m.multi.ok
	}
	_, err := q.ExecContext(ctx, m.dialect.MultiStatementProbe, 1, 1)
	if err != nil && (ctx.Err() != nil || connectionLost(err)) {
		return false // no answer: ask again next time
	}
	m.multi.known, m.multi.ok = true, err == nil
	return m.multi.ok
}

// contextError prefers the context's error when ctx was cancelled, so that an interrupted run
// is reported as such and not as whatever the driver said about the aborted statement.
func contextError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("interrupted, the running version was rolled back: %w", ctxErr)
	}
	return err
}

// skipTransactionControl reports whether st is a standalone BEGIN/COMMIT/END that ratchet
// skips, as the legacy tool did, warning about it.
func (m *Migrator) skipTransactionControl(step Step, st sqlsplit.Statement) bool {
	if !sqlsplit.IsTransactionControl(st.Text) {
		return false
	}
	m.emit(Event{Kind: Warning, Version: step.Version, Script: step.Script.Path,
		Message: fmt.Sprintf("%s:%d: %q ignored: ratchet runs each version in its own transaction", step.Script.Path, st.Line, st.Text)})
	return true
}

// exec runs one statement of a step, turning a failure into a *ScriptError.
func (m *Migrator) exec(ctx context.Context, q versiontable.Querier, step Step, st sqlsplit.Statement) error {
	m.emit(Event{Kind: StatementStarted, From: step.From, Version: step.Version, Script: step.Script.Path, Line: st.Line})
	if _, err := q.ExecContext(ctx, st.Text); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return statementError(step, st, err)
	}
	return nil
}

// statementError is the *ScriptError for a statement of step that failed with err.
func statementError(step Step, st sqlsplit.Statement, err error) *ScriptError {
	return &ScriptError{Version: step.Version, Script: step.Script.Path, Line: st.Line,
		Statement: st.Text, Code: ErrorCode(err), Err: err, ConnectionLost: connectionLost(err)}
}
