package ratchet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ratchetdb/ratchet/internal/versiontable"
	"github.com/ratchetdb/ratchet/repository"
	"github.com/ratchetdb/ratchet/sqlsplit"
)

// A rolling version comes in three phases so that the old and the new release of a service
// can share the database while its nodes are upgraded one at a time: expand adds what the new
// release needs, migrate moves the data in batches, contract removes what only the old
// release used. Consecutive rolling versions form a window, run phase-major: every expand,
// then every migrate, then every contract. The version table keeps saying the last version
// fully applied until contract moves it, so the old release keeps seeing its version; how far
// expand and migrate went lives in ratchet_rolling, written in the transaction of the work it
// records.

// Errors of the rolling-upgrade commands.
var (
	// ErrWindow: the command does not fit the open window, or its order (migrate before
	// expand, contract before migrate, a second window while one is open).
	ErrWindow = errors.New("rolling upgrade out of order")
	// ErrOffline: the next version has no phases and must be applied offline.
	ErrOffline = errors.New("version must be applied offline")
	// ErrDataPending: a data migration stopped with work left (a limit, or rows the old
	// release keeps writing); run the migrate phase again.
	ErrDataPending = errors.New("data migration incomplete")
)

// WindowError explains why a rolling-upgrade command cannot run now, and what to run first.
type WindowError struct {
	Phase  string // the command: "expand", "migrate", "contract"
	Reason string
	Next   string // the phase to run first: "expand", "migrate", "contract"; "" when none helps
}

func (e *WindowError) Error() string { return e.Reason }

// Unwrap returns [ErrWindow].
func (e *WindowError) Unwrap() error { return ErrWindow }

// OfflineError reports versions without phases ahead of a rolling upgrade: they run only
// with the service stopped, as a plain upgrade.
type OfflineError struct {
	From, To int // the versions that must be applied offline
}

func (e *OfflineError) Error() string {
	which := fmt.Sprintf("version %d has", e.From)
	if e.To > e.From {
		which = fmt.Sprintf("versions %d-%d have", e.From, e.To)
	}
	return which + " no expand, migrate or contract part and must be applied offline, with the service stopped"
}

// Unwrap returns [ErrOffline].
func (e *OfflineError) Unwrap() error { return ErrOffline }

// BarrierError reports an expand target past a version that starts a new window.
type BarrierError struct {
	Barrier, Target int
}

func (e *BarrierError) Error() string {
	return fmt.Sprintf("version %d starts a new rolling window (-- ratchet:barrier): expand, migrate and contract up to version %d first, then expand to %d",
		e.Barrier, e.Barrier-1, e.Target)
}

// Unwrap returns [ErrInvalidVersion]: the target cannot be reached in one window.
func (e *BarrierError) Unwrap() error { return ErrInvalidVersion }

// DataPendingError reports data migrations with work left.
type DataPendingError struct {
	Versions []int
	Limit    string // the limit that stopped the run ("--max-rows"), "" when rows remain after a full sweep
}

func (e *DataPendingError) Error() string {
	if e.Limit != "" {
		return fmt.Sprintf("stopped by %s with work left in the data migration of version %s", e.Limit, joinInts(e.Versions))
	}
	return fmt.Sprintf("the data migration of version %s still finds rows to migrate after a full sweep (rows written meanwhile without a trigger?)", joinInts(e.Versions))
}

// Unwrap returns [ErrDataPending].
func (e *DataPendingError) Unwrap() error { return ErrDataPending }

// SchemaState is where a database stands in its versions and in a rolling upgrade.
type SchemaState struct {
	Controlled bool
	// Version is the last version fully applied: the version table's.
	Version int
	// Expanded and Migrated are how far the expand and migrate phases of the open window
	// went; Target is the window's last version. Without a window all three are Version.
	Expanded, Migrated, Target int
	Window                     bool // a rolling upgrade is open
	Latest                     int  // the repository's latest version
}

// Phase names the step a rolling upgrade is at: "expand" (or none open and versions
// pending), "migrate", "contract", or "" when the database is up to date.
func (s SchemaState) Phase() string {
	switch {
	case s.Window && s.Expanded < s.Target:
		return repository.OpExpand
	case s.Window && s.Migrated < s.Expanded:
		return repository.OpMigrate
	case s.Window:
		return repository.OpContract
	case s.Version < s.Latest:
		return repository.OpExpand
	}
	return ""
}

// RequireAtLeast returns an error unless the schema serves a release that needs version v:
// v is expanded and its data migrated (contracted or not). A service calls it at start-up.
func RequireAtLeast(s SchemaState, v int) error {
	if s.Expanded >= v && s.Migrated >= v {
		return nil
	}
	return fmt.Errorf("the database schema is too old for this release: it needs version %d expanded and migrated; the database is at version %d (expanded %d, migrated %d)",
		v, s.Version, s.Expanded, s.Migrated)
}

// RequireAtMost returns an error unless the schema still serves a release written for version
// v: no version above v is fully applied (expanded versions keep what v uses until contract).
func RequireAtMost(s SchemaState, v int) error {
	if s.Version <= v {
		return nil
	}
	return fmt.Errorf("the database schema is too new for this release: it was written for version %d and the database is at version %d", v, s.Version)
}

// State reads where the database stands. It takes no lock and writes nothing.
func (m *Migrator) State(ctx context.Context) (SchemaState, error) {
	s, err := m.open(ctx, false)
	if err != nil {
		return SchemaState{}, m.busy(err)
	}
	defer s.close(ctx)
	st, err := s.readState(ctx)
	if err != nil {
		return SchemaState{}, m.busy(err)
	}
	return m.schemaState(st), nil
}

func (m *Migrator) schemaState(st state) SchemaState {
	out := SchemaState{Controlled: st.controlled, Version: st.version, Expanded: st.version, Migrated: st.version, Target: st.version, Latest: m.repo.Latest()}
	if w := st.window; w != nil {
		out.Window, out.Expanded, out.Migrated, out.Target = true, w.Expanded, w.Migrated, w.Target
	}
	return out
}

// Expand runs the expand phase of the next rolling window: every version's expand part,
// online blocks included, each in its own transaction (journalled on MySQL) with the record
// of it. target is [Latest] for the window's end (the version before the next barrier or
// version without phases), or a version in it. An open window is continued; a different
// target while one is open is refused.
func (m *Migrator) Expand(ctx context.Context, target int, opts ...UpgradeOption) (*Result, error) {
	return m.runPhase(ctx, repository.OpExpand, target, opts)
}

// Migrate runs the data migrations of the open window, after its expand phase: batches, each
// committed with its checkpoint, until every migration is done or a limit ([MaxRows],
// [MaxDuration]) stops it, which is a [*DataPendingError].
func (m *Migrator) Migrate(ctx context.Context, opts ...UpgradeOption) (*Result, error) {
	return m.runPhase(ctx, repository.OpMigrate, Latest, opts)
}

// Contract runs the contract phase of the open window once its data migrations are done
// (every pending query is asked again): each version's contract part moves the version table
// to it, and the last closes the window.
func (m *Migrator) Contract(ctx context.Context, opts ...UpgradeOption) (*Result, error) {
	return m.runPhase(ctx, repository.OpContract, Latest, opts)
}

// PlanPhaseFrom works out what the rolling phase command phase ("expand", "migrate",
// "contract") would run on a database at version current with no window open, without
// reading the database: every refusal that needs no database, as [Migrator.PlanFrom] does for
// upgrades.
func (m *Migrator) PlanPhaseFrom(phase string, current, target int, opts ...UpgradeOption) (*Plan, error) {
	if !repository.IsPhase(phase) {
		return nil, fmt.Errorf("%q is not a rolling phase (expand, migrate, contract)", phase)
	}
	if target < Latest {
		return nil, &InvalidVersionError{Version: target}
	}
	if err := m.checkVersion(current); err != nil {
		return nil, err
	}
	return m.phasePlan(state{version: current, controlled: true}, phase, target, upgradeSettings(opts))
}

func (m *Migrator) runPhase(ctx context.Context, phase string, target int, opts []UpgradeOption) (*Result, error) {
	return m.write(ctx, target, opts, func(s *session, uc upgradeConfig) (*Result, error) {
		return s.phase(ctx, phase, target, uc)
	})
}

func (s *session) phase(ctx context.Context, phase string, target int, uc upgradeConfig) (res *Result, err error) {
	m := s.m
	// One snapshot: where no migration lock serializes the runs (SQLite), another run may
	// commit between the reads.
	var st state
	var plan *Plan
	err = s.planUnderLock(ctx, func() error {
		err := s.inReadTx(ctx, func() (err error) {
			st, err = s.plannableState(ctx)
			return err
		})
		if err != nil {
			return err
		}
		res = &Result{Start: st.version, End: st.version, Before: m.schemaState(st)}
		plan, err = m.phasePlan(st, phase, target, uc)
		return err
	})
	if err != nil {
		return res, err
	}
	if phase == repository.OpContract && st.window != nil {
		if err := s.checkNothingPending(ctx); err != nil {
			return res, err
		}
	}
	if !uc.skipSanityCheck {
		if err := s.sanityCheck(ctx); err != nil {
			return res, err
		}
	}
	if phase != repository.OpMigrate {
		if err := s.bindDDLWait(ctx, uc); err != nil {
			return res, err
		}
	}
	// No hold on an SQLite file: both releases keep writing between the transactions.
	if uc.beforeApply != nil && len(plan.Steps) > 0 {
		if err := uc.beforeApply(ctx, plan, s.conn); err != nil {
			return res, err
		}
	}
	if phase == repository.OpMigrate && len(plan.Steps) == 0 && st.window != nil {
		// Every data migration is recorded complete; rows the old release wrote since, where
		// no trigger covers them, are swept again.
		pending, err := s.pendingData(ctx, st, st.window.Migrated)
		if err != nil {
			return res, err
		}
		for _, v := range pending {
			step, err := m.phaseStep(repository.OpMigrate, st.window.Migrated, v, false)
			if err != nil {
				return res, err
			}
			if step.data.batched() {
				step.resweep = true
				plan.Steps = append(plan.Steps, step)
			}
		}
	}
	s.limits = newLimits(uc.data, m.cfg.now())
	return res, s.apply(ctx, plan, res)
}

// phasePlan works out the steps of one phase command from st.
func (m *Migrator) phasePlan(st state, phase string, target int, uc upgradeConfig) (*Plan, error) {
	w := st.window
	p := &Plan{Current: st.version, Controlled: st.controlled, Target: st.version}
	var steps []Step
	var err error
	switch phase {
	case repository.OpExpand:
		if w != nil {
			switch {
			case target == Latest || target == w.Target:
			case target < st.version:
				return nil, &DowngradeError{Current: st.version, Target: target}
			case !m.repo.Has(target):
				return nil, &VersionNotFoundError{Version: target, Target: target, Latest: m.repo.Latest()}
			}
			if target != Latest && target != w.Target {
				return nil, &WindowError{Phase: phase, Next: nextPhase(w), Reason: fmt.Sprintf(
					"a rolling upgrade to version %d is open (expanded to %d, migrated to %d): finish it (%s) before expanding to %d",
					w.Target, w.Expanded, w.Migrated, nextPhase(w), target)}
			}
			p.Target = w.Target
			steps, err = m.windowSteps(w.From, st.version, w.Expanded, w.Migrated, w.Target, phase, false)
			break
		}
		var end int
		if end, err = m.nextWindow(st.version, target); err != nil || end == 0 {
			return p, err
		}
		p.Target = end
		steps, err = m.windowSteps(st.version, st.version, st.version, st.version, end, phase, false)
		if err == nil && len(steps) > 0 {
			steps[0].opens = end
		}
		if err == nil {
			err = m.lintGate(st.version, end)
		}
	case repository.OpMigrate:
		switch {
		case w == nil && st.version < m.repo.Latest():
			return nil, &WindowError{Phase: phase, Next: repository.OpExpand, Reason: "data migration did not run: data migration cannot be run before database expansion"}
		case w == nil:
			return p, nil
		case w.Expanded < w.Target:
			return nil, &WindowError{Phase: phase, Next: repository.OpExpand, Reason: fmt.Sprintf(
				"data migration did not run: the expansion to version %d stopped at %d", w.Target, w.Expanded)}
		}
		p.Target = w.Target
		steps, err = m.windowSteps(w.From, st.version, w.Expanded, w.Migrated, w.Target, phase, false)
	case repository.OpContract:
		switch {
		case w == nil && st.version < m.repo.Latest():
			return nil, &WindowError{Phase: phase, Next: repository.OpExpand, Reason: "database contraction did not run: database contraction cannot be run before database expansion"}
		case w == nil:
			return p, nil
		case w.Migrated < w.Target:
			return nil, &WindowError{Phase: phase, Next: nextPhase(w), Reason: fmt.Sprintf(
				"database contraction did not run: database contraction cannot be run before the data migration is complete (migrated to version %d of %d)", w.Migrated, w.Target)}
		}
		p.Target = w.Target
		steps, err = m.windowSteps(w.From, st.version, w.Expanded, w.Migrated, w.Target, phase, false)
	}
	if err != nil {
		return nil, err
	}
	p.Steps = steps
	if st.journal != nil {
		if len(p.Steps) == 0 || p.Steps[0].Script == nil {
			return nil, stoppedError(st.journal)
		}
		if err := recoverStopped(st.journal, &p.Steps[0], uc); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// nextPhase is the phase that moves window w on.
func nextPhase(w *versiontable.Window) string {
	switch {
	case w.Expanded < w.Target:
		return repository.OpExpand
	case w.Migrated < w.Target:
		return repository.OpMigrate
	}
	return repository.OpContract
}

// nextWindow returns the end of the window that starts after version c: the last of the
// consecutive rolling versions that follow it, up to target ([Latest]: as far as they go).
// It returns 0 when no version follows c.
func (m *Migrator) nextWindow(c, target int) (int, error) {
	versions := m.repo.Versions()
	i, _ := slices.BinarySearch(versions, c+1)
	if target != Latest {
		switch {
		case target < c:
			return 0, &DowngradeError{Current: c, Target: target}
		case target == c:
			return 0, nil
		case !m.repo.Has(target):
			return 0, &VersionNotFoundError{Version: target, Target: target, Latest: m.repo.Latest()}
		}
	}
	if i == len(versions) {
		return 0, nil
	}
	if !m.repo.Rolling(versions[i]) {
		j := i
		for j+1 < len(versions) && !m.repo.Rolling(versions[j+1]) {
			j++
		}
		return 0, &OfflineError{From: versions[i], To: versions[j]}
	}
	end := i
	for ; end+1 < len(versions) && (target == Latest || versions[end+1] <= target); end++ {
		next := versions[end+1]
		if !m.repo.UseTimestampNumbering() && next != versions[end]+1 {
			return 0, &VersionNotFoundError{Version: versions[end] + 1, Target: target, Latest: m.repo.Latest()}
		}
		if !m.repo.Rolling(next) {
			if target != Latest {
				return 0, &OfflineError{From: next, To: next}
			}
			break
		}
		barrier, err := m.barrier(next)
		if err != nil {
			return 0, err
		}
		if barrier {
			if target != Latest {
				return 0, &BarrierError{Barrier: next, Target: target}
			}
			break
		}
	}
	return versions[end], nil
}

// barrier reports whether rolling version v starts a new window: its expand script says
// `-- ratchet:barrier`.
func (m *Migrator) barrier(v int) (bool, error) {
	s, ok, err := m.repo.Script(v, m.dialect.Name(), repository.OpExpand)
	if err != nil || !ok || s.Kind != repository.SQL {
		return false, err
	}
	ds, err := sqlsplit.Directives(s.SQL)
	if err != nil {
		return false, invalidScript(v, s.Path, err)
	}
	_, found := sqlsplit.Find(ds, sqlsplit.DirectiveBarrier)
	return found, nil
}

// windowSteps returns the steps of a window from version from to target in which version c
// is fully applied, expanded and migrated went as far as said: for phase "" (offline, every
// phase in turn, online blocks skipped) or one phase.
func (m *Migrator) windowSteps(from, c, expanded, migrated, target int, phase string, offline bool) ([]Step, error) {
	var versions []int
	for _, v := range m.repo.Versions() {
		if v > from && v <= target {
			versions = append(versions, v)
		}
	}
	// Every phase of the window is resolved, whichever runs: a script that breaks its
	// phase's rules is refused before anything of the window runs.
	var steps []Step
	add := func(ph string, start int, closes bool) error {
		prev := start
		for _, v := range versions {
			if v <= start {
				continue
			}
			step, err := m.phaseStep(ph, prev, v, offline)
			if err != nil {
				return err
			}
			step.closes = closes && v == target
			if phase == "" || phase == ph {
				steps = append(steps, step)
			}
			prev = v
		}
		return nil
	}
	if err := add(repository.OpExpand, expanded, false); err != nil {
		return nil, err
	}
	if err := add(repository.OpMigrate, migrated, false); err != nil {
		return nil, err
	}
	if err := add(repository.OpContract, c, true); err != nil {
		return nil, err
	}
	return steps, nil
}

// phaseStep resolves phase ph of rolling version v, from position from.
func (m *Migrator) phaseStep(ph string, from, v int, offline bool) (Step, error) {
	step := Step{From: from, Version: v, Phase: ph, Offline: offline}
	s, ok, err := m.repo.Script(v, m.dialect.Name(), ph)
	switch {
	case err != nil:
		return Step{}, err
	case !ok:
		return step, nil // nothing to run: the step only records the phase
	case s.Kind == repository.Go && s.Data != nil:
		step.Script, step.data = s, &dataMigration{goData: s.Data}
		return step, nil
	}
	return m.scriptStep(step, s)
}

// lintGate refuses to open a window whose versions break a rolling rule on this dialect (see
// [repository.Repository.LintRolling]): the old release runs on what expand leaves, so what
// would break it is found before anything runs. A waiver in the script lets a statement by.
func (m *Migrator) lintGate(from, to int) error {
	var window []int
	for _, v := range m.repo.Versions() {
		if v > from && v <= to {
			window = append(window, v)
		}
	}
	if err := m.windowGate(window); err != nil {
		return err
	}
	for _, v := range window {
		for _, f := range m.repo.LintRolling(v, m.dialect.Name()) {
			if f.Severity == repository.SeverityError {
				return &ScriptError{Script: f.Path, Err: &invalidScriptError{
					f.Message + " (or waive it with -- ratchet:lint-ignore RULE reason on the line before)"}}
			}
		}
	}
	return nil
}

// windowGate refuses a window whose phase-major order would lose data whether it runs online
// or offline: a contract that rebuilds a table a later version of the window expands.
func (m *Migrator) windowGate(versions []int) error {
	for _, f := range m.repo.LintWindow(versions, m.dialect.Name()) {
		if f.Severity == repository.SeverityError {
			return &ScriptError{Script: f.Path, Err: &invalidScriptError{f.Message}}
		}
	}
	return nil
}

// openWindow opens the window the step starts, unless it is open already.
func (s *session) openWindow(ctx context.Context, step Step) error {
	return s.bookkeepingTx(ctx, func() error {
		w, err := s.table.ReadWindow(ctx, s.conn)
		switch {
		case err != nil:
			return err
		case w != nil && w.Target == step.opens && w.From == step.From:
			return nil // opened meanwhile by another run, for the same versions
		case w != nil:
			return &WindowError{Phase: repository.OpExpand, Reason: fmt.Sprintf("another run opened a rolling upgrade to version %d meanwhile", w.Target)}
		}
		return s.table.OpenWindow(ctx, s.conn, step.From, step.opens)
	})
}

// applyEmpty records a phase the version has nothing for.
func (s *session) applyEmpty(ctx context.Context, step Step) (*AppliedVersion, error) {
	err := s.bookkeepingTx(ctx, func() error {
		_, err := s.claim(ctx, s.conn, step)
		return err
	})
	return nil, contextError(ctx, err)
}

// invalidScriptError is a script the rules of a repository refuse before anything runs.
type invalidScriptError struct{ msg string }

func (e *invalidScriptError) Error() string { return e.msg }
func (e *invalidScriptError) Unwrap() error { return ErrInvalidRepository }

// invalidScript returns the *ScriptError for a script a rule refuses (err: a
// *sqlsplit.SyntaxError or a message).
func invalidScript(v int, path string, err error) *ScriptError {
	var se *sqlsplit.SyntaxError
	if errors.As(err, &se) {
		return &ScriptError{Version: v, Script: path, Line: se.Line, Err: &invalidScriptError{se.Msg}}
	}
	return &ScriptError{Version: v, Script: path, Err: &invalidScriptError{err.Error()}}
}

// schemaKeywords start statements that change the schema, which a data migration must not.
var schemaKeywords = []string{"CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE", "COMMENT", "GRANT", "REVOKE"}

// readKeywords start the queries a pending directive may run.
var readKeywords = []string{"SELECT", "WITH"}

// dmlKeywords start the statements a repeated data migration may run.
var dmlKeywords = []string{"UPDATE", "DELETE", "INSERT", "REPLACE", "WITH"}

// checkPhase applies the rules of a step's phase to its script's directives and statements:
// online blocks only in expand and contract, repeat and pending only in migrate, no schema
// change in migrate, a barrier only in expand.
func (m *Migrator) checkPhase(step *Step, ds []sqlsplit.Directive) error {
	v, path := step.Version, step.Script.Path
	refuse := func(line int, format string, args ...any) error {
		return invalidScript(v, path, &sqlsplit.SyntaxError{Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	if i := slices.Index(step.Online, true); i >= 0 && step.Phase != repository.OpExpand && step.Phase != repository.OpContract {
		return refuse(step.Statements[i].Line, "online blocks belong in expand and contract scripts (a %s script runs whole)", step.Phase)
	}
	for _, d := range ds {
		switch {
		case d.Name == sqlsplit.DirectiveBarrier && step.Phase != repository.OpExpand:
			return refuse(d.Line, "-- ratchet:barrier belongs in the expand script of the version that starts a new window")
		case (d.Name == sqlsplit.DirectiveRepeat || d.Name == sqlsplit.DirectivePending) && step.Phase != repository.OpMigrate:
			return refuse(d.Line, "-- ratchet:%s belongs in a migrate script", d.Name)
		}
	}
	if step.Phase != repository.OpMigrate {
		return nil
	}
	var runnable []int
	for i, st := range step.Statements {
		if kw := sqlsplit.Keyword(st.Text); slices.Contains(schemaKeywords, kw) {
			return refuse(st.Line, "a data migration must not change the schema (%s): put it in the expand or contract script", kw)
		}
		if m.skipReason(st) == "" {
			runnable = append(runnable, i)
		}
	}
	dm := &dataMigration{}
	if d, ok := sqlsplit.Find(ds, sqlsplit.DirectivePending); ok {
		if _, repeat := sqlsplit.Find(ds, sqlsplit.DirectiveRepeat); !repeat {
			return refuse(d.Line, "-- ratchet:pending goes with -- ratchet:repeat: a script that runs once cannot migrate the rows the old release writes after it ran")
		}
		// The query runs in every db check, which writes nothing: one statement that reads.
		q, err := sqlsplit.Split(d.Value, m.dialect.Split())
		if err != nil || len(q) != 1 || !slices.Contains(readKeywords, sqlsplit.Keyword(q[0].Text)) {
			return refuse(d.Line, "-- ratchet:pending takes one SELECT that returns a row while work remains")
		}
		dm.pending = d.Value
	}
	if d, ok := sqlsplit.Find(ds, sqlsplit.DirectiveRepeat); ok {
		if len(runnable) != 1 {
			return refuse(d.Line, "-- ratchet:repeat runs one statement until it changes no row; the script has %d", len(runnable))
		}
		st := step.Statements[runnable[0]]
		if kw := sqlsplit.Keyword(st.Text); !slices.Contains(dmlKeywords, kw) {
			return refuse(st.Line, "-- ratchet:repeat needs an UPDATE, DELETE or INSERT, not %s", kw)
		}
		dm.repeat, dm.statement = true, runnable[0]
	}
	if dm.repeat || dm.pending != "" {
		step.data = dm
	}
	return nil
}

// joinInts returns the numbers separated by commas.
func joinInts(vs []int) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ", ")
}

// Next is what a database needs next, as db check reports it.
type Next struct {
	// Step is "" (up to date), "expand" (a rolling window to start or finish expanding),
	// "migrate" (data migrations with work left), "contract", or "upgrade" (versions without
	// phases next: applied offline).
	Step  string
	State SchemaState
	// Pending are the window's versions whose data migration says work remains.
	Pending []int
	// Offline is, for Step "upgrade", the versions to apply offline.
	Offline *OfflineError
	// Broken describes an open window that contradicts the version table (hand edits); Step
	// is then "".
	Broken string
	// MissingTriggers are the triggers the window's expand parts created in their online
	// blocks that are gone or disabled: the old and the new release no longer see the same
	// data. Each reads "name (file)".
	MissingTriggers []string
}

// Next reads what the database needs next: the phase of its rolling upgrade, or an offline
// upgrade. It asks the open window's pending queries; it writes nothing.
func (m *Migrator) Next(ctx context.Context) (*Next, error) {
	s, err := m.open(ctx, false)
	if err != nil {
		return nil, m.busy(err)
	}
	defer s.close(ctx)
	st, err := s.controlledState(ctx)
	if err != nil {
		return nil, m.busy(err)
	}
	n := &Next{State: m.schemaState(st)}
	if w := st.window; w != nil {
		if !(w.From <= st.version && st.version <= w.Migrated && w.Migrated <= w.Expanded && w.Expanded <= w.Target) {
			n.Broken = fmt.Sprintf("%s says version %d, but its rolling upgrade from %d to %d says expanded %d and migrated %d (edited by hand?)",
				s.table.Name(), st.version, w.From, w.Target, w.Expanded, w.Migrated)
			return n, nil
		}
		if n.Pending, err = s.pendingData(ctx, st, w.Migrated); err != nil {
			return nil, m.busy(err)
		}
		if w.Online {
			if n.MissingTriggers, err = s.missingTriggers(ctx, st.version, w.Expanded); err != nil {
				return nil, m.busy(err)
			}
		}
		switch {
		case w.Expanded < w.Target:
			n.Step = repository.OpExpand
		case w.Migrated < w.Expanded || len(n.Pending) > 0:
			n.Step = repository.OpMigrate
		default:
			n.Step = repository.OpContract
		}
		return n, nil
	}
	_, err = m.nextWindow(st.version, Latest)
	var off *OfflineError
	switch {
	case errors.As(err, &off):
		n.Step, n.Offline = upgradeOperation, off
	case err != nil:
		return nil, err
	case st.version < m.repo.Latest():
		n.Step = repository.OpExpand
	}
	return n, nil
}

// missingTriggers returns the triggers that the online blocks of the expand parts of versions
// c+1 … expanded create and the database lacks or has disabled.
func (s *session) missingTriggers(ctx context.Context, c, expanded int) ([]string, error) {
	var want []string
	parts, err := s.m.parts(repository.OpExpand, c, expanded)
	if err != nil {
		return nil, err
	}
	for _, step := range parts {
		for i, st := range step.Statements {
			if name, ok := repository.CreatedTrigger(st.Text); ok && i < len(step.Online) && step.Online[i] {
				want = append(want, name+" ("+step.Script.Path+")")
			}
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	have, err := s.table.ListTriggers(ctx, s.conn)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, w := range want {
		name, _, _ := strings.Cut(w, " ")
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, name) }) {
			missing = append(missing, w)
		}
	}
	return missing, nil
}

// defaultDDLWait bounds an online phase's wait for a table lock unless [DDLLockTimeout] says
// otherwise.
const defaultDDLWait = 5 * time.Second

// ddlAttempts is how many times a statement that gave up waiting for its lock is sent.
const ddlAttempts = 5

// bindDDLWait bounds, for the rest of the session, how long the statements of an online
// phase wait for a table lock (see [DDLLockTimeout]).
func (s *session) bindDDLWait(ctx context.Context, uc upgradeConfig) error {
	wait := defaultDDLWait
	if uc.ddlWait != nil {
		wait = *uc.ddlWait
	}
	w := s.m.dialect.DDLWait()
	if w == nil || wait <= 0 {
		return nil
	}
	s.ddlCodes = w.Codes
	if w.Local != "" {
		s.ddlLocal = fmt.Sprintf(w.Local, wait.Milliseconds())
		return nil
	}
	var old string
	if err := s.conn.QueryRowContext(ctx, w.Read).Scan(&old); err != nil {
		return fmt.Errorf("reading the lock wait timeout: %w", err)
	}
	n := wait.Milliseconds()
	if w.Seconds {
		n = max(1, int64(wait.Round(time.Second)/time.Second))
	}
	if _, err := s.conn.ExecContext(ctx, fmt.Sprintf(w.Set, n)); err != nil {
		return fmt.Errorf("setting the lock wait timeout: %w", err)
	}
	s.undo = append(s.undo, fmt.Sprintf(w.Restore, old))
	return nil
}

// lockWaitGaveUp reports whether err is a statement that gave up waiting for a table lock
// under the bound of bindDDLWait: it did not run.
func (s *session) lockWaitGaveUp(err error) bool {
	if len(s.ddlCodes) == 0 || err == nil {
		return false
	}
	code := s.m.driver.ErrorCode(err)
	var se *ScriptError
	if errors.As(err, &se) && se.Code != "" {
		code = se.Code
	}
	return slices.Contains(s.ddlCodes, code)
}

// retryPause is the pause before attempt k (2, 3, …) of a statement that gave up waiting.
func retryPause(k int) time.Duration { return time.Duration(1<<(k-2)) * 500 * time.Millisecond }

// waitToRetry reports a statement that gave up waiting for its lock and pauses before
// attempt k; false when ctx ended the pause.
func (s *session) waitToRetry(ctx context.Context, step Step, k int, err error) bool {
	s.m.emit(Event{Kind: Warning, Version: step.Version, Phase: step.Phase, Script: step.ScriptPath(), Message: fmt.Sprintf(
		"%s: a statement waited longer than its lock timeout for a table lock the service holds and did not run (%v); trying again in %v (attempt %d of %d)",
		step.describe(), err, retryPause(k), k, ddlAttempts)})
	select {
	case <-ctx.Done():
		return false
	case <-time.After(retryPause(k)):
		return true
	}
}

// checkNothingPending refuses a contract while a data migration of the window still finds rows
// to migrate. It asks under the write lock, from the window as it is then: another run may
// have contracted versions meanwhile, whose queries name what their contract dropped.
func (s *session) checkNothingPending(ctx context.Context) error {
	return s.bookkeepingTx(ctx, func() error {
		st, err := s.readState(ctx)
		if err != nil || st.window == nil {
			return err
		}
		pending, err := s.pendingData(ctx, st, st.window.Migrated)
		if err != nil {
			return err
		}
		if len(pending) > 0 {
			return &WindowError{Phase: repository.OpContract, Next: repository.OpMigrate, Reason: fmt.Sprintf(
				"database contraction did not run: the data migration of version %s still finds rows to migrate", joinInts(pending))}
		}
		return nil
	})
}

// parts returns phase ph of the versions after from up to to, as they run online.
func (m *Migrator) parts(ph string, from, to int) ([]Step, error) {
	var out []Step
	for _, v := range m.repo.Versions() {
		if v <= from || v > to {
			continue
		}
		step, err := m.phaseStep(ph, v-1, v, false)
		if err != nil {
			return nil, err
		}
		out = append(out, step)
	}
	return out, nil
}
