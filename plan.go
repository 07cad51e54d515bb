package ratchet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ratchetdb/ratchet/internal/versiontable"
	"github.com/ratchetdb/ratchet/repository"
	"github.com/ratchetdb/ratchet/sqlsplit"
)

// upgradeOperation is the script operation a plain upgrade runs.
const upgradeOperation = "upgrade"

// Plan is what an upgrade will do, worked out before anything runs.
type Plan struct {
	Current    int  // the database's version now
	Controlled bool // false: the database is empty and will be stamped at 0 first
	Target     int  // the version the database will be at
	Steps      []Step
}

// Step is one version to apply, or one phase of a rolling version.
type Step struct {
	// From is the position before the step: the version the database is at, or, for a
	// phase of a rolling version, how far that phase went (see Phase).
	From    int
	Version int
	// Phase is the script operation the step runs: "upgrade" for a version applied whole;
	// "expand", "migrate" or "contract" for a phase of a rolling version. Expand moves the
	// window's expanded version, migrate its migrated version, contract and upgrade the
	// version table's.
	Phase string
	// Script is nil for a phase the version has nothing for: the step only records it.
	Script     *repository.Script
	Statements []sqlsplit.Statement // for SQL scripts, split before anything runs
	// Journalled is true when the version cannot run in one transaction — DDL commits
	// implicitly on the dialect, or the script starts with `-- ratchet:no-transaction` — so
	// its statements are applied one by one and their progress journalled.
	Journalled bool
	// ResumeAt is the index of the first statement to run: non-zero when resuming a version
	// that stopped part way.
	ResumeAt int
	// Recovering is true when the step resumes or retries a version that stopped part way.
	Recovering bool
	// Earlier is, for a recovering step, the number of statements an earlier attempt had
	// applied before the version was retried from its first statement.
	Earlier int
	// Online marks the statements of a `-- ratchet:online` block; Offline steps skip them.
	Online  []bool
	Offline bool

	opens   int  // the target of the window this step opens (its first expand), 0 for none
	closes  bool // the step is the window's last contract: it removes the window
	resweep bool // a data migration recorded complete runs again: its pending query finds rows
	data    *dataMigration
}

// move is what the step records when it completes.
func (st Step) move() versiontable.Move {
	switch st.Phase {
	case repository.OpExpand:
		return versiontable.Move{Counter: versiontable.Expanded, From: st.From, To: st.Version, Offline: st.Offline}
	case repository.OpMigrate:
		return versiontable.Move{Counter: versiontable.Migrated, From: st.From, To: st.Version}
	}
	return versiontable.Move{Counter: versiontable.Applied, From: st.From, To: st.Version, Close: st.closes}
}

// ScriptPath names the step's script, or the phase it has nothing for.
func (st Step) ScriptPath() string {
	if st.Script == nil {
		return fmt.Sprintf("(no %s part)", st.Phase)
	}
	return st.Script.Path
}

// Plan reads the database's version and works out the steps from it to target ([Latest] for
// the repository's latest version). Every error an upgrade can detect without running a
// script is returned here: a downgrade, a missing version (beyond latest or a gap crossed), a
// version without a runnable script, a script that cannot be split. Plan writes nothing.
func (m *Migrator) Plan(ctx context.Context, target int, opts ...UpgradeOption) (*Plan, error) {
	if target < Latest {
		return nil, &InvalidVersionError{Version: target}
	}
	s, err := m.open(ctx, false)
	if err != nil {
		return nil, m.busy(err)
	}
	defer s.close(ctx)
	st, err := s.plannableState(ctx)
	if err != nil {
		return nil, m.busy(err)
	}
	return m.plan(st, target, upgradeSettings(opts))
}

// plannableState reads the state an upgrade starts from, refusing a database that is not
// under version control or whose history lacks versions below its current one.
func (s *session) plannableState(ctx context.Context) (state, error) {
	st, err := s.controlledState(ctx)
	if err != nil {
		return st, err
	}
	missing, err := s.unapplied(ctx, st)
	if err != nil {
		return st, err
	}
	if len(missing) > 0 {
		return st, &OutOfOrderError{Versions: missing, Current: st.version}
	}
	return st, nil
}

// PlanFrom works out the steps from version current to target without reading the database,
// as [Migrator.Plan] does for the database's own version. current must be 0 or a version of
// the repository.
func (m *Migrator) PlanFrom(current, target int, opts ...UpgradeOption) (*Plan, error) {
	if target < Latest {
		return nil, &InvalidVersionError{Version: target}
	}
	if err := m.checkVersion(current); err != nil {
		return nil, err
	}
	return m.plan(state{version: current, controlled: true}, target, upgradeSettings(opts))
}

// plan computes the steps from st's version to target. It walks the repository's versions,
// not the integers, so its cost is linear in the number of versions whatever their numbers.
func (m *Migrator) plan(st state, target int, uc upgradeConfig) (*Plan, error) {
	latest := target == Latest
	if latest {
		target = m.repo.Latest()
	}
	p := &Plan{Current: st.version, Controlled: st.controlled, Target: target}
	if target < st.version {
		return nil, &DowngradeError{Current: st.version, Target: target, Latest: latest}
	}
	if m.dialect.MaxVersion() > 0 && target > m.dialect.MaxVersion() {
		return nil, m.tooLarge(target)
	}
	if target > st.version && !m.repo.Has(target) {
		return nil, &VersionNotFoundError{Version: target, Target: target, Latest: m.repo.Latest()}
	}
	prev := st.version
	if w := st.window; w != nil {
		// An open rolling window is finished first, every phase offline.
		if target < w.Target {
			return nil, &WindowError{Phase: upgradeOperation, Next: nextPhase(w), Reason: fmt.Sprintf(
				"a rolling upgrade to version %d is open: finish it (%s, or sync to %d or beyond) before anything else", w.Target, nextPhase(w), w.Target)}
		}
		steps, err := m.windowSteps(w.From, st.version, w.Expanded, w.Migrated, w.Target, "", true)
		if err != nil {
			return nil, err
		}
		p.Steps, prev = steps, w.Target
	}
	versions := m.repo.Versions()
	i, _ := slices.BinarySearch(versions, prev+1)
	for ; i < len(versions) && versions[i] <= target; i++ {
		v := versions[i]
		// Timestamp-numbered repositories have gaps by construction; elsewhere a gap is a
		// missing script.
		if v != prev+1 && !m.repo.UseTimestampNumbering() {
			return nil, &VersionNotFoundError{Version: prev + 1, Target: target, Latest: m.repo.Latest()}
		}
		if m.repo.Rolling(v) {
			// A window: the rolling versions up to the next barrier, phase-major.
			end := i
			for end+1 < len(versions) && versions[end+1] <= target && m.repo.Rolling(versions[end+1]) {
				if barrier, err := m.barrier(versions[end+1]); err != nil || barrier {
					if err != nil {
						return nil, err
					}
					break
				}
				if versions[end+1] != versions[end]+1 && !m.repo.UseTimestampNumbering() {
					break // the gap is reported on the next turn
				}
				end++
			}
			if err := m.windowGate(versions[i : end+1]); err != nil {
				return nil, err
			}
			steps, err := m.windowSteps(prev, prev, prev, prev, versions[end], "", true)
			if err != nil {
				return nil, err
			}
			steps[0].opens = versions[end]
			p.Steps = append(p.Steps, steps...)
			prev, i = versions[end], end
			continue
		}
		step, err := m.step(prev, v)
		if err != nil {
			return nil, err
		}
		p.Steps = append(p.Steps, step)
		prev = v
	}
	if st.journal != nil && len(p.Steps) > 0 {
		if err := recoverStopped(st.journal, &p.Steps[0], uc); err != nil {
			return nil, err
		}
	}
	if uc.atomic {
		if err := m.checkAtomic(p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// recoverStopped decides what to do with the version the journal says stopped part way:
// refuse to go on (the default), resume after its applied statements, or run it again.
func recoverStopped(j *versiontable.Journal, first *Step, uc upgradeConfig) error {
	stop := stoppedError(j)
	if j.Version != first.Version || j.Phase != first.Phase || first.Script == nil || uc.recovery == refuseRecovery {
		return stop
	}
	first.Recovering = true
	first.Earlier = j.Earlier
	// A part goes on as it started: a part an offline run started, its online blocks
	// skipped, does not become one whose triggers the window relies on.
	first.Offline = first.Offline || j.Offline
	if uc.recovery == retryRecovery {
		// What the stopped attempt applied was undone by hand: the journal keeps the count.
		first.Earlier = max(j.Earlier, j.Done())
		return nil
	}
	resumeAt := j.Done()
	if stop.InFlight > 0 {
		switch uc.inFlight {
		case inFlightUnknown:
			return stop
		case inFlightCompleted:
			resumeAt = stop.InFlight
		}
	}
	if first.Script.Kind != repository.SQL {
		first.ResumeAt = resumeAt
		return nil
	}
	if resumeAt > len(first.Statements) {
		return &ResumeError{Version: j.Version, Script: first.Script.Path, Statement: len(first.Statements) + 1, Reason: "the script now has fewer statements than were applied"}
	}
	for i, h := range j.Hashes {
		if i >= len(first.Statements) || statementHash(first.Statements[i].Text) != h {
			line := 0
			if i < len(first.Statements) {
				line = first.Statements[i].Line
			}
			return &ResumeError{Version: j.Version, Script: first.Script.Path, Statement: i + 1, Line: line, Reason: "it changed since it was applied"}
		}
	}
	first.ResumeAt = resumeAt
	return nil
}

// stoppedError describes a journal's stopped version.
func stoppedError(j *versiontable.Journal) *StoppedVersionError {
	e := &StoppedVersionError{Version: j.Version, Phase: j.Phase, Script: j.Script, Applied: j.Done(), Total: j.Total, Earlier: j.Earlier}
	switch {
	case j.Error != "":
		e.Failed, e.Line, e.Message = j.Running, j.FailedLine, j.Error
		if e.Failed == 0 {
			e.Failed = j.Done() + 1 // a journal of an earlier release
		}
	case j.Running > j.Done():
		e.InFlight = j.Running
	}
	return e
}

// step resolves the script that takes the database from version from to v.
func (m *Migrator) step(from, v int) (Step, error) {
	s, ok, err := m.repo.Script(v, m.dialect.Name(), upgradeOperation)
	if err != nil {
		return Step{}, err
	}
	if !ok {
		return Step{}, &NoScriptError{Version: v, Dialect: m.dialect.Name()}
	}
	return m.scriptStep(Step{From: from, Version: v, Phase: upgradeOperation}, s)
}

// scriptStep completes step with script s: split, checked, its directives read.
func (m *Migrator) scriptStep(step Step, s *repository.Script) (Step, error) {
	v := step.Version
	step.Script, step.Journalled = s, !m.dialect.TransactionalDDL()
	switch s.Kind {
	case repository.Python:
		return Step{}, &NoScriptError{Version: v, Dialect: m.dialect.Name(), Path: s.Path}
	case repository.SQL:
		stmts, err := sqlsplit.Split(s.SQL, m.dialect.Split())
		if err != nil {
			return Step{}, splitError(v, s.Path, err)
		}
		for i, st := range stmts {
			if !sqlsplit.IsTransactionControl(st.Text) && sqlsplit.ControlsTransaction(st.Text) {
				return Step{}, &ScriptError{Version: v, Script: s.Path, Line: st.Line, Statement: st.Text, Index: i + 1,
					Err: fmt.Errorf("%q would end the transaction version %d runs in; remove it: ratchet commits each version itself", firstLine(st.Text), v)}
			}
			if _, ok := m.driver.(CopyDriver); st.FromStdin && !ok {
				return Step{}, &ScriptError{Version: v, Script: s.Path, Line: st.Line, Statement: st.Text, Index: i + 1,
					Err: fmt.Errorf("%w: %q: its rows need the COPY protocol, which this program's driver does not offer", ErrRefusedStatement, firstLine(st.Text))}
			}
			if why := m.dialect.Refused(st.Text); why != "" {
				return Step{}, &ScriptError{Version: v, Script: s.Path, Line: st.Line, Statement: st.Text, Index: i + 1,
					Err: fmt.Errorf("%w: %q: %s", ErrRefusedStatement, firstLine(st.Text), why)}
			}
		}
		// A directive that cannot be obeyed is bad input, like a bad repository.
		ds, err := sqlsplit.Directives(s.SQL)
		if err != nil {
			return Step{}, invalidScript(v, s.Path, err)
		}
		if step.Online, err = sqlsplit.Online(s.SQL, ds, stmts); err != nil {
			return Step{}, invalidScript(v, s.Path, err)
		}
		step.Statements = stmts
		step.Journalled = step.Journalled || sqlsplit.NoTransaction(s.SQL)
		if err := m.checkPhase(&step, ds); err != nil {
			return Step{}, err
		}
	}
	return step, nil
}

// firstLine returns the first line of a statement, for messages.
func firstLine(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	return strings.TrimSpace(line)
}

// splitError turns a splitter error into a ScriptError that reads "file:line: reason".
func splitError(version int, path string, err error) *ScriptError {
	var se *sqlsplit.SyntaxError
	if errors.As(err, &se) {
		return &ScriptError{Version: version, Script: path, Line: se.Line, Err: errors.New(se.Msg)}
	}
	return &ScriptError{Version: version, Script: path, Err: err}
}
