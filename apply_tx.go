package ratchet

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/versiontable"
	"github.com/ratchetdb/ratchet/repository"
	"github.com/ratchetdb/ratchet/sqlsplit"
)

// applyStep applies one version in one transaction together with its bookkeeping: the
// version claim first, then the script's statements (in one round trip where the driver
// can), then the history row. It returns nil, nil when another process applied the version
// first.
func (s *session) applyStep(ctx context.Context, step Step) (*AppliedVersion, error) {
	if step.Script.Kind == repository.Go {
		return s.applyGo(ctx, step)
	}
	var e *versiontable.Entry
	err := s.inTx(ctx, func() error {
		if skip, err := s.claim(ctx, s.conn, step); err != nil || skip {
			return err
		}
		s.m.emit(Event{Kind: VersionStarted, From: step.From, Version: step.Version, Phase: step.Phase, Script: step.Script.Path})
		start := s.m.cfg.now()
		s.m.warnSkipped(step, 0)
		if err := s.runStatements(ctx, step, 0, len(step.Statements)); err != nil {
			return err
		}
		entry := s.m.entry(step, start)
		e = &entry
		return s.table.Record(ctx, s.conn, entry)
	})
	if err != nil {
		return nil, contextError(ctx, err)
	}
	return s.done(step, e), nil
}

// applyGo applies a Go migration in one database/sql transaction with its bookkeeping.
func (s *session) applyGo(ctx context.Context, step Step) (*AppliedVersion, error) {
	var e *versiontable.Entry
	err := s.goTx(ctx, func(tx *sql.Tx) error {
		if skip, err := s.claim(ctx, tx, step); err != nil || skip {
			return err
		}
		s.m.emit(Event{Kind: VersionStarted, From: step.From, Version: step.Version, Phase: step.Phase, Script: step.Script.Path})
		start := s.m.cfg.now()
		if err := s.runGo(ctx, tx, step); err != nil {
			return err
		}
		entry := s.m.entry(step, start)
		e = &entry
		return s.table.Record(ctx, tx, entry)
	})
	if err != nil {
		return nil, contextError(ctx, err)
	}
	return s.done(step, e), nil
}

// runGo calls a Go migration's Up, once.
func (s *session) runGo(ctx context.Context, tx *sql.Tx, step Step) error {
	if err := step.Script.Up(dialect.NewContext(ctx, s.m.dialect), tx); err != nil {
		return &ScriptError{Version: step.Version, Script: step.Script.Path, Err: err, Code: s.m.driver.ErrorCode(err)}
	}
	return nil
}

// done reports an applied step; nil when another process applied it.
func (s *session) done(step Step, e *versiontable.Entry) *AppliedVersion {
	if e == nil {
		return nil
	}
	a := applied(*e)
	s.m.emitApplied(step, a)
	return a
}

// runStatements runs the statements from index from to to (exclusive) of a step's script on
// the session, standalone BEGIN/COMMIT lines aside, in one round trip where the driver can.
// A failure is a *ScriptError naming the failing statement, as the execution itself
// reported it; ctx's error when the run was interrupted.
func (s *session) runStatements(ctx context.Context, step Step, from, to int) error {
	var cmds []command
	var index []int // position in step.Statements of each command
	for i := from; i < to; i++ {
		if !s.m.skips(step, i) {
			cmds = append(cmds, scriptCommand(step.Statements[i]))
			index = append(index, i)
		}
	}
	if len(cmds) == 0 {
		return nil
	}
	done, err := s.execAll(ctx, cmds, func(k int) { s.statementStarted(step, index[k]) })
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case done < len(index):
		return s.m.statementError(step, index[done], err)
	}
	return &ScriptError{Version: step.Version, Script: step.Script.Path, Code: s.m.driver.ErrorCode(err), Err: err,
		ConnectionLost: s.m.driver.ConnectionLost(err)}
}

// statementStarted reports that statement i of step is about to run on its own.
func (s *session) statementStarted(step Step, i int) {
	s.m.emit(Event{Kind: StatementStarted, From: step.From, Version: step.Version, Script: step.Script.Path, Line: step.Statements[i].Line})
}

// checkAtomic refuses an atomic upgrade that cannot be one transaction.
func (m *Migrator) checkAtomic(plan *Plan) error {
	if !m.dialect.TransactionalDDL() {
		return fmt.Errorf("%w: DDL commits implicitly on %s", ErrNotAtomic, m.dialect.Name())
	}
	if i := slices.IndexFunc(plan.Steps, func(s Step) bool { return s.Phase != upgradeOperation }); i >= 0 {
		return fmt.Errorf("%w: version %d is a rolling version, applied phase by phase", ErrNotAtomic, plan.Steps[i].Version)
	}
	goMigration := slices.ContainsFunc(plan.Steps, func(s Step) bool { return s.Script.Kind == repository.Go })
	for _, s := range plan.Steps {
		if goMigration && slices.ContainsFunc(s.Statements, func(st sqlsplit.Statement) bool { return st.FromStdin }) {
			return fmt.Errorf("%w: %s has a COPY … FROM STDIN, which cannot share a transaction with a Go migration", ErrNotAtomic, s.Script.Path)
		}
		if s.Journalled {
			return fmt.Errorf("%w: %s must run outside a transaction (-- ratchet:no-transaction)", ErrNotAtomic, s.Script.Path)
		}
		if s.Recovering {
			return fmt.Errorf("%w: version %d stopped part way and must be resumed or retried on its own", ErrNotAtomic, s.Version)
		}
	}
	return nil
}
