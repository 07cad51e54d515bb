package ratchet

import (
	"context"
	"errors"

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

// Step is one version to apply.
type Step struct {
	Version    int
	Script     *repository.Script
	Statements []sqlsplit.Statement // for SQL scripts, split before anything runs
}

// Plan reads the database's version and works out the steps from it to target ([Latest] for
// the repository's latest version). Every error an upgrade can detect without running a
// script is returned here: a downgrade, a missing version (beyond latest or a gap crossed), a
// version without a runnable script, a script that cannot be split. Plan writes nothing.
func (m *Migrator) Plan(ctx context.Context, target int) (*Plan, error) {
	if target < Latest {
		return nil, &InvalidVersionError{Version: target}
	}
	st, err := m.readState(ctx, m.db)
	if err != nil {
		return nil, err
	}
	if err := st.controllable(); err != nil {
		return nil, err
	}
	return m.plan(st, target)
}

// plan computes the steps from st's version to target.
func (m *Migrator) plan(st state, target int) (*Plan, error) {
	latest := target == Latest
	if latest {
		target = m.repo.Latest()
	}
	p := &Plan{Current: st.version, Controlled: st.controlled, Target: target}
	if target < st.version {
		return nil, &DowngradeError{Current: st.version, Target: target, Latest: latest}
	}
	for v := st.version + 1; v <= target; v++ {
		if !m.repo.Has(v) {
			return nil, &VersionNotFoundError{Version: v, Target: target, Latest: m.repo.Latest()}
		}
		s, ok := m.repo.Script(v, m.dialect.Name, upgradeOperation)
		if !ok {
			return nil, &NoScriptError{Version: v, Dialect: m.dialect.Name}
		}
		step := Step{Version: v, Script: s}
		switch s.Kind {
		case repository.Python:
			return nil, &NoScriptError{Version: v, Dialect: m.dialect.Name, Path: s.Path}
		case repository.SQL:
			stmts, err := sqlsplit.Split(s.SQL, m.dialect.Split)
			if err != nil {
				return nil, splitError(v, s.Path, err)
			}
			step.Statements = stmts
		}
		p.Steps = append(p.Steps, step)
	}
	return p, nil
}

// splitError turns a splitter error into a ScriptError that reads "file:line: reason".
func splitError(version int, path string, err error) *ScriptError {
	var se *sqlsplit.SyntaxError
	if errors.As(err, &se) {
		return &ScriptError{Version: version, Script: path, Line: se.Line, Err: errors.New(se.Msg)}
	}
	return &ScriptError{Version: version, Script: path, Err: err}
}
