package ratchet

import (
	"context"
	"database/sql"
	"fmt"
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
func (m *Migrator) Upgrade(ctx context.Context, target int) (*Result, error) {
	if target < Latest {
		return nil, &InvalidVersionError{Version: target}
	}
	l, err := m.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer l.Release(context.WithoutCancel(ctx))
	plan, err := m.Plan(ctx, target)
	if err != nil {
		return nil, err
	}
	res := &Result{Start: plan.Current, End: plan.Current}
	if !plan.Controlled {
		stamped, err := m.stampEmpty(ctx)
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
	if err := m.table.CreateHistory(ctx, m.db); err != nil {
		return res, err
	}
	for _, step := range plan.Steps {
		applied, err := m.applyStep(ctx, step)
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
func (m *Migrator) stampEmpty(ctx context.Context) (stamped bool, err error) {
	err = m.inTx(ctx, func(tx *sql.Tx) error {
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
func (m *Migrator) applyStep(ctx context.Context, step Step) (*AppliedVersion, error) {
	var applied *AppliedVersion
	err := m.inTx(ctx, func(tx *sql.Tx) error {
		cur, _, err := m.table.Version(ctx, tx)
		if err != nil {
			return err
		}
		if cur >= step.Version {
			return nil // applied meanwhile by another process
		}
		if cur != step.From {
			return fmt.Errorf("version %d cannot be applied: the database is at version %d (changed by another process?)", step.Version, cur)
		}
		m.emit(Event{Kind: VersionStarted, From: step.From, Version: step.Version, Script: step.Script.Path})
		start := m.cfg.now()
		n, err := m.runScript(ctx, tx, step)
		if err != nil {
			return err
		}
		took := m.cfg.now().Sub(start)
		if err := m.table.Advance(ctx, tx, cur, step.Version); err != nil {
			return err
		}
		err = m.table.Record(ctx, tx, versiontable.Entry{
			Version:    step.Version,
			Phase:      step.Script.Operation,
			Script:     step.Script.Path,
			Checksum:   step.Script.Checksum(),
			AppliedAt:  start,
			Duration:   took,
			Statements: n,
			AppliedBy:  m.cfg.appliedBy,
		})
		if err != nil {
			return err
		}
		applied = &AppliedVersion{Version: step.Version, Script: step.Script.Path, Statements: n, Duration: took}
		return nil
	})
	if err != nil {
		return nil, contextError(ctx, err)
	}
	if applied != nil {
		m.emit(Event{Kind: VersionApplied, From: step.From, Version: applied.Version, Script: applied.Script,
			Statements: applied.Statements, Duration: applied.Duration})
	}
	return applied, nil
}

// runScript runs a step's script on tx and returns the number of statements it ran.
func (m *Migrator) runScript(ctx context.Context, tx *sql.Tx, step Step) (int, error) {
	s := step.Script
	if s.Kind == repository.Go {
		if err := s.Up(dialect.NewContext(ctx, m.dialect), tx); err != nil {
			return 0, &ScriptError{Version: step.Version, Script: s.Path, Err: err}
		}
		return 0, nil
	}
	n := 0
	for _, st := range step.Statements {
		if sqlsplit.IsTransactionControl(st.Text) {
			m.emit(Event{Kind: Warning, Version: step.Version, Script: s.Path,
				Message: fmt.Sprintf("%s:%d: %q ignored: ratchet runs each version in its own transaction", s.Path, st.Line, st.Text)})
			continue
		}
		if _, err := tx.ExecContext(ctx, st.Text); err != nil {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			return n, &ScriptError{Version: step.Version, Script: s.Path, Line: st.Line,
				Statement: st.Text, Code: ErrorCode(err), Err: err}
		}
		n++
	}
	return n, nil
}

// contextError prefers the context's error when ctx was cancelled, so that an interrupted run
// is reported as such and not as whatever the driver said about the aborted statement.
func contextError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("interrupted, the running version was rolled back: %w", ctxErr)
	}
	return err
}
