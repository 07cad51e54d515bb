package ratchet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ratchetdb/ratchet/internal/versiontable"
	"github.com/ratchetdb/ratchet/repository"
	"github.com/ratchetdb/ratchet/sqlsplit"
)

// Result is what an upgrade did.
type Result struct {
	Start   int  // the version before
	End     int  // the version after
	Stamped bool // the database was empty and was put under version control at 0 first
	// Before is, for a rolling phase, where the database stood when the run, holding the
	// migration lock, started: with the state after, it tells what the run moved.
	Before  SchemaState
	Applied []AppliedVersion
}

// AppliedVersion is one version applied by this run, or one phase of a rolling version.
type AppliedVersion struct {
	Version    int
	Phase      string // "upgrade", or the phase of a rolling version
	Script     string
	Statements int // the statements of the script that ran, over every attempt
	Duration   time.Duration
	// Rows is, for a data migration, the rows its batches changed in this run; Done is
	// false when the run stopped before the migration was complete.
	Rows int64
	Done bool
}

// Upgrade brings the database to target ([Latest] for the repository's latest version).
//
// Everything that can be checked without running a script is checked first (see
// [Migrator.Plan]); then an empty database is put under version control at 0, and each version
// runs in its own transaction together with its version update and history row, so a crash
// leaves the database at one version or the next, never between. Versions applied meanwhile by
// another process are skipped. Each statement is sent to the database at most once, and a Go
// migration's Up is called at most once per version.
//
// The result is never nil: on failure it holds what was applied before it, and the error is
// a [*ScriptError] for a failing script. A target equal to the current version does nothing
// and is not an error.
func (m *Migrator) Upgrade(ctx context.Context, target int, opts ...UpgradeOption) (*Result, error) {
	return m.write(ctx, target, opts, func(s *session, uc upgradeConfig) (*Result, error) {
		return s.upgrade(ctx, target, uc)
	})
}

// write runs fn, a run that writes, on a session that holds the migration lock. Its result is
// never nil, and its error says when the run was interrupted.
func (m *Migrator) write(ctx context.Context, target int, opts []UpgradeOption, fn func(*session, upgradeConfig) (*Result, error)) (res *Result, err error) {
	defer func() {
		if res == nil {
			res = &Result{}
		}
		err = interrupted(ctx, m.busy(err))
	}()
	if target < Latest {
		return nil, &InvalidVersionError{Version: target}
	}
	s, err := m.openSession(ctx, true, true)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := s.close(ctx); cerr != nil && err == nil {
			err = cerr
		}
	}()
	return fn(s, upgradeSettings(opts))
}

// interruptedError is the error of a run that was cancelled: its text says so.
type interruptedError struct{ err error }

func (e *interruptedError) Error() string { return e.err.Error() }
func (e *interruptedError) Unwrap() error { return e.err }

// interrupted makes sure that the error of a cancelled run says it was interrupted, at
// whatever point the cancellation stopped it (connecting, reading the state, stamping).
func interrupted(ctx context.Context, err error) error {
	var ie *interruptedError
	if err == nil || ctx.Err() == nil || errors.As(err, &ie) {
		return err
	}
	return &interruptedError{fmt.Errorf("interrupted: %w", err)}
}

func (s *session) upgrade(ctx context.Context, target int, uc upgradeConfig) (res *Result, err error) {
	m := s.m
	var st state
	var plan *Plan
	err = s.planUnderLock(ctx, func() (err error) {
		if st, err = s.plannableState(ctx); err != nil {
			return err
		}
		res = &Result{Start: st.version, End: st.version}
		plan, err = m.plan(st, target, uc)
		return err
	})
	if err != nil {
		return res, err
	}
	if !uc.skipSanityCheck {
		if err := s.sanityCheck(ctx); err != nil {
			return res, err
		}
	}
	if len(plan.Steps) > 0 || !plan.Controlled {
		// Only a run that writes holds an SQLite file: an up-to-date database is left to
		// others.
		held, err := s.hold(ctx)
		if err != nil {
			return res, err
		}
		if held {
			// Another run may have written the file while this one waited for it: the plan
			// is made again from what the file says now.
			if st, err = s.plannableState(ctx); err != nil {
				return res, err
			}
			res.Start, res.End = st.version, st.version
			if plan, err = m.plan(st, target, uc); err != nil {
				return res, err
			}
		}
	}
	if uc.beforeApply != nil && len(plan.Steps) > 0 {
		if err := uc.beforeApply(ctx, plan, s.conn); err != nil {
			return res, err
		}
	}
	s.limits = newLimits(uc.data, m.cfg.now())
	apply := s.apply
	if uc.atomic {
		apply = s.applyAtomic
	}
	if err := apply(ctx, plan, res); err != nil {
		return res, err
	}
	// Checked again only if versions ran: otherwise the answer is the one before.
	if !uc.skipSanityCheck && len(res.Applied) > 0 {
		if err := s.sanityCheck(ctx); err != nil {
			return res, err
		}
	}
	return res, nil
}

// apply stamps an empty database and applies the plan's steps, recording each in res. A
// stamp this run made is taken back if no version could be applied after it.
func (s *session) apply(ctx context.Context, plan *Plan, res *Result) (err error) {
	var before state // the bookkeeping tables there were before the stamp
	if !plan.Controlled {
		var stamped bool
		var note string
		stamped, before, note, err = s.stampEmpty(ctx)
		if err != nil {
			return err
		}
		res.Stamped = stamped
		if stamped {
			s.m.emit(Event{Kind: Stamped, Message: note})
			defer func() {
				if err == nil || len(res.Applied) > 0 {
					return
				}
				// A session that is gone (dropped to cancel a statement) can take nothing
				// back, and saying so would only bury the error that matters.
				if uerr := s.unstamp(ctx, before); uerr != nil && !s.m.driver.ConnectionLost(uerr) {
					err = fmt.Errorf("%w; taking back the stamp at version 0 failed too: %v", err, uerr)
				}
			}()
		}
	}
	if len(plan.Steps) == 0 {
		return nil
	}
	if err := s.table.CreateHistory(ctx, s.conn); err != nil {
		return err
	}
	if slices.ContainsFunc(plan.Steps, func(st Step) bool { return st.Journalled || st.Recovering }) {
		if err := s.table.CreateJournal(ctx, s.conn); err != nil {
			return err
		}
	}
	if slices.ContainsFunc(plan.Steps, func(st Step) bool { return st.Phase != upgradeOperation }) {
		if err := s.table.CreateRolling(ctx, s.conn); err != nil {
			return err
		}
	}
	for i, step := range plan.Steps {
		// A version handed the journal row over was started by the closing transaction of
		// the one before, which checked the lock (see handOver).
		if err := s.checkLock(); err != nil && s.handedOver != step.Version {
			return fmt.Errorf("stopping before %s: %w", step.describe(), err)
		}
		s.next = nil
		if i+1 < len(plan.Steps) {
			s.next = &plan.Steps[i+1]
		}
		if step.opens > 0 {
			if err := s.openWindow(ctx, step); err != nil {
				return err
			}
		}
		var apply func(context.Context, Step) (*AppliedVersion, error)
		switch {
		case step.Script == nil:
			apply = s.applyEmpty
		case step.data.batched():
			apply = s.applyData
		case step.Journalled || step.Recovering:
			// A resumed or retried version continues its journal, which its completion
			// removes, even if its script would now run in one transaction.
			apply = s.applyJournalled
		default:
			apply = s.applyStep
		}
		applied, err := apply(ctx, step)
		// A transactional SQL part rolled back whole when a statement gave up waiting for a
		// table lock: it is tried again. A Go part is not: its Up is called at most once.
		for k := 2; err != nil && k <= ddlAttempts && step.Script != nil && step.Script.Kind == repository.SQL && !step.Journalled && !step.Recovering &&
			s.lockWaitGaveUp(err) && s.waitToRetry(ctx, step, k, err); k++ {
			applied, err = apply(ctx, step)
		}
		if applied != nil {
			res.Applied = append(res.Applied, *applied)
		}
		if err != nil {
			return err
		}
		if step.move().Counter == versiontable.Applied {
			res.End = step.Version
		}
	}
	return nil
}

// stampEmpty puts an empty database under version control at 0, unless another process did
// it first. It reports whether this call stamped it, the state before, and, when the version
// table was there already with other repositories' rows, a note that says so.
func (s *session) stampEmpty(ctx context.Context) (stamped bool, before state, note string, err error) {
	err = s.bookkeepingTx(ctx, func() error {
		st, err := s.readState(ctx)
		if err != nil {
			return err
		}
		before = st
		if st.controlled {
			return nil
		}
		if err := st.controllable(); err != nil {
			return err
		}
		if st.hasVersionTable {
			ids, err := s.table.Repositories(ctx, s.conn)
			if err != nil {
				return err
			}
			note = fmt.Sprintf("%s has no row for repository %q (it has rows for %s)", s.table.Name(), s.m.repo.ID(), quoteList(ids))
		}
		stamped = true
		return s.stamp(ctx, st, 0)
	})
	return stamped, before, note, err
}

// unstamp takes back the stamp of a run that then applied nothing, and the bookkeeping
// tables the run created: a failed run leaves the database as it found it. A version that
// stopped part way keeps it: its journal needs the row.
func (s *session) unstamp(ctx context.Context, before state) error {
	ctx = context.WithoutCancel(ctx)
	st, err := s.readState(ctx)
	if err != nil {
		return err
	}
	if w := st.window; w != nil && w.Expanded == w.From && w.Migrated == w.From && st.version == w.From {
		// A window the run opened and expanded nothing of goes with the stamp.
		if err := s.table.DeleteWindow(ctx, s.conn); err != nil {
			return err
		}
		st.window = nil
	}
	if st.journal != nil || st.window != nil || !st.controlled || st.version != 0 {
		return nil
	}
	if err := s.table.Unstamp(ctx, s.conn); err != nil {
		return err
	}
	var errs []error
	for _, t := range []struct {
		name         string
		existed, now bool
	}{
		{versiontable.JournalTable, before.hasJournal, st.hasJournal},
		{versiontable.RollingTable, before.hasRolling, st.hasRolling},
		{versiontable.HistoryTable, before.hasHistory, st.hasHistory},
		{s.table.Name(), before.hasVersionTable, st.hasVersionTable},
	} {
		if t.now && !t.existed {
			errs = append(errs, s.table.Drop(ctx, s.conn, t.name))
		}
	}
	return errors.Join(errs...)
}

// quoteList returns the strings quoted and separated by commas.
func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// checkCurrent re-reads the position the step moves on the session: skip is true when
// another process applied the step meanwhile.
func (s *session) checkCurrent(ctx context.Context, q versiontable.Querier, step Step) (skip bool, err error) {
	mv := step.move()
	cur, err := s.table.Position(ctx, q, mv.Counter)
	switch {
	case err != nil:
		return false, err
	case cur >= step.Version:
		return true, nil
	case cur != step.From:
		return false, fmt.Errorf("%s cannot be applied: the %s is %d (changed by another process?)", step.describe(), mv.Counter, cur)
	}
	return false, nil
}

// describe names the step in messages: "version 12", "the expand phase of version 12".
func (st Step) describe() string {
	if st.Phase == upgradeOperation || st.Phase == "" {
		return fmt.Sprintf("version %d", st.Version)
	}
	return fmt.Sprintf("the %s phase of version %d", st.Phase, st.Version)
}

// claim moves the version to the step's in the step's transaction, before its script runs:
// one statement both proves that no other process moved the version and holds the version
// row until the commit. When the row had moved, skip is true if another process applied the
// step meanwhile; otherwise the version changed under the run and that is an error.
func (s *session) claim(ctx context.Context, q versiontable.Querier, step Step) (skip bool, err error) {
	err = s.table.Advance(ctx, q, step.move())
	if !errors.Is(err, versiontable.ErrConcurrentUpdate) {
		return false, err
	}
	if skip, curErr := s.checkCurrent(ctx, q, step); curErr != nil || skip {
		return skip, curErr
	}
	return false, err
}

// entry is the history row of a step that started at start.
func (m *Migrator) entry(step Step, start time.Time) versiontable.Entry {
	return versiontable.Entry{
		Version:    step.Version,
		Phase:      step.Phase,
		Script:     step.Script.Path,
		Checksum:   step.Script.Checksum(),
		AppliedAt:  start,
		Duration:   m.cfg.now().Sub(start),
		Statements: m.countRunnable(step),
		AppliedBy:  m.cfg.appliedBy,
	}
}

// applied is what the run reports of a step whose history entry is e.
func applied(e versiontable.Entry) *AppliedVersion {
	return &AppliedVersion{Version: e.Version, Phase: e.Phase, Script: e.Script, Statements: e.Statements, Duration: e.Duration, Done: true}
}

func (m *Migrator) emitApplied(step Step, a *AppliedVersion) {
	if a != nil {
		m.emit(Event{Kind: VersionApplied, From: step.From, Version: a.Version, Script: a.Script,
			Statements: a.Statements, Duration: a.Duration, Phase: step.Phase, Rows: a.Rows})
	}
}

// countRunnable returns how many of a step's statements run: all but those ratchet skips
// (see skips).
func (m *Migrator) countRunnable(step Step) int {
	n := 0
	for i := range step.Statements {
		if !m.skips(step, i) {
			n++
		}
	}
	return n
}

// skips reports whether statement i of step is not sent: ratchet skips it (see skipReason),
// or it belongs to an online block and the step runs offline.
func (m *Migrator) skips(step Step, i int) bool {
	return (step.Offline && i < len(step.Online) && step.Online[i]) || m.skipReason(step.Statements[i]) != ""
}

// skipReason returns why ratchet skips st, with a warning, rather than running it — a
// standalone BEGIN/COMMIT, as the legacy tool did; a dump's LOCK TABLES on MySQL — or "".
func (m *Migrator) skipReason(st sqlsplit.Statement) string {
	if sqlsplit.IsTransactionControl(st.Text) {
		return "ratchet runs each version in its own transaction"
	}
	return m.dialect.Skipped(st.Text)
}

// warnSkipped warns about the statements ratchet skips among a step's statements from
// index from on (see skipReason), and about a script with nothing to run.
func (m *Migrator) warnSkipped(step Step, from int) {
	for _, st := range step.Statements[from:] {
		if why := m.skipReason(st); why != "" {
			m.emit(Event{Kind: Warning, Version: step.Version, Script: step.Script.Path,
				Message: fmt.Sprintf("%s:%d: %q ignored: %s", step.Script.Path, st.Line, firstLine(st.Text), why)})
		}
	}
	if from == 0 && m.countRunnable(step) == 0 && !slices.Contains(step.Online, true) {
		m.emit(Event{Kind: Warning, Version: step.Version, Script: step.Script.Path,
			Message: fmt.Sprintf("%s has no statements to run; version %d is recorded as applied", step.Script.Path, step.Version)})
	}
}

// multiStatementExec reports whether one Exec on q may carry several statements. Where the
// dialect leaves it to the connection, the first call asks the database once for the
// Migrator: every connection of a pool is opened from the same DSN.
func (m *Migrator) multiStatementExec(ctx context.Context, q versiontable.Querier) bool {
	if m.dialect.MultiStatementExec() || m.dialect.MultiStatementProbe() == "" {
		return m.dialect.MultiStatementExec()
	}
	m.multi.Lock()
	defer m.multi.Unlock()
	if m.multi.known {
		return m.multi.ok
	}
	_, err := q.ExecContext(ctx, m.dialect.MultiStatementProbe(), 1, 1)
	if err != nil && (ctx.Err() != nil || m.driver.ConnectionLost(err)) {
		return false // no answer: ask again next time
	}
	m.multi.known, m.multi.ok = true, err == nil
	return m.multi.ok
}

// contextError prefers the context's error when ctx was cancelled, so that an interrupted run
// is reported as such and not as whatever the driver said about the aborted statement.
func contextError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &interruptedError{fmt.Errorf("interrupted, the running version was rolled back: %w", ctxErr)}
	}
	return err
}

// statementError is the *ScriptError for statement i (0-based) of step, which failed with err.
func (m *Migrator) statementError(step Step, i int, err error) *ScriptError {
	st := step.Statements[i]
	return &ScriptError{Version: step.Version, Phase: step.Phase, Script: step.Script.Path, Line: st.Line, Statement: st.Text, Index: i + 1,
		Code: m.driver.ErrorCode(err), Err: err, ConnectionLost: m.driver.ConnectionLost(err)}
}
