package ratchet

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/ratchetdb/ratchet/internal/versiontable"
	"github.com/ratchetdb/ratchet/repository"
)

// maxBatchSize bounds the SQL text sent in one round trip by an atomic upgrade: beyond a
// few dozen versions per round trip there is nothing left to gain, only memory to hold it.
const maxBatchSize = 64 << 10

// applyAtomic stamps an empty database and applies every step in one transaction, with the
// version update and the history rows. A failure rolls everything back, stamp included, and
// nothing is run again: the failing statement is the one the execution reported. The
// statements of many versions share a round trip, unless a Go migration needs the
// transaction as a *sql.Tx: then they run one per Exec in it.
func (s *session) applyAtomic(ctx context.Context, plan *Plan, res *Result) error {
	a := &atomicRun{s: s, plan: plan}
	if err := s.checkLock(); err != nil {
		return fmt.Errorf("stopping before the upgrade: %w", err)
	}
	var err error
	if slices.ContainsFunc(plan.Steps, func(st Step) bool { return st.Script.Kind == repository.Go }) {
		err = s.goTx(ctx, func(tx *sql.Tx) error {
			a.q, a.tx = tx, tx
			a.exec = func(ctx context.Context, cmds []command) (int, error) {
				for i, c := range cmds {
					if c.fromStdin {
						return i, fmt.Errorf("COPY … FROM STDIN cannot share an atomic upgrade with a Go migration")
					}
					if _, err := tx.ExecContext(ctx, c.sql); err != nil {
						return i, err
					}
				}
				return len(cmds), nil
			}
			return a.run(ctx)
		})
	} else {
		a.q = s.conn
		a.exec = func(ctx context.Context, cmds []command) (int, error) { return s.execAll(ctx, cmds, nil) }
		err = s.inTx(ctx, func() error { return a.run(ctx) })
	}
	if err != nil {
		return contextError(ctx, err)
	}
	res.Stamped = a.stamped
	if a.stamped {
		s.m.emit(Event{Kind: Stamped})
	}
	for i, e := range a.entries {
		v := applied(e)
		s.m.emitApplied(a.steps[i], v)
		res.Applied = append(res.Applied, *v)
		res.End = e.Version
	}
	return nil
}

// atomicRun is the state of one atomic upgrade.
type atomicRun struct {
	s       *session
	plan    *Plan
	q       versiontable.Querier
	tx      *sql.Tx // set when Go migrations need it
	exec    func(ctx context.Context, cmds []command) (int, error)
	stamped bool
	steps   []Step
	entries []versiontable.Entry

	batch   []command
	owners  []batchOwner // the step and statement of each statement of batch
	size    int
	waiting []int // the entries whose statements wait in batch
}

// batchOwner locates a statement of a batch in the plan.
type batchOwner struct{ step, stmt int }

func (a *atomicRun) run(ctx context.Context) error {
	s := a.s
	st, err := s.readStateOn(ctx, a.q)
	if err != nil {
		return err
	}
	if !st.controlled {
		if err := st.controllable(); err != nil {
			return err
		}
		if err := s.stampOn(ctx, a.q, st, 0); err != nil {
			return err
		}
		a.stamped = true
	}
	if len(a.plan.Steps) > 0 {
		if err := s.table.CreateHistory(ctx, a.q); err != nil {
			return err
		}
	}
	// The version was read in this transaction, which holds the write lock: the steps need
	// no re-check each, and the bookkeeping is written once, at the end.
	from := st.version
	for _, step := range a.plan.Steps {
		if step.Version <= st.version {
			continue // applied meanwhile by another process
		}
		if len(a.steps) == 0 && step.From != st.version {
			return fmt.Errorf("version %d cannot be applied: the database is at version %d (changed by another process?)", step.Version, st.version)
		}
		s.m.warnSkipped(step, 0)
		a.steps = append(a.steps, step)
		a.entries = append(a.entries, s.m.entry(step, s.m.cfg.now()))
		if step.Script.Kind == repository.Go {
			if err := a.flush(ctx); err != nil {
				return err
			}
			start := s.m.cfg.now()
			if err := s.runGo(ctx, a.tx, step); err != nil {
				return err
			}
			a.entries[len(a.entries)-1].Duration = s.m.cfg.now().Sub(start)
			continue
		}
		for i, stmt := range step.Statements {
			if s.m.skipReason(stmt) == "" {
				a.batch = append(a.batch, scriptCommand(stmt))
				a.owners = append(a.owners, batchOwner{len(a.steps) - 1, i})
				a.size += len(stmt.Text)
			}
		}
		a.waiting = append(a.waiting, len(a.entries)-1)
		if a.size >= maxBatchSize {
			if err := a.flush(ctx); err != nil {
				return err
			}
		}
	}
	if err := a.flush(ctx); err != nil {
		return err
	}
	if len(a.entries) == 0 {
		return nil
	}
	if err := s.table.Advance(ctx, a.q, from, a.entries[len(a.entries)-1].Version); err != nil {
		return err
	}
	return s.table.RecordAll(ctx, a.q, a.entries)
}

// flush sends the waiting statements. The versions they belong to share the time it took.
func (a *atomicRun) flush(ctx context.Context) error {
	if len(a.waiting) == 0 {
		return nil
	}
	start := a.s.m.cfg.now()
	if len(a.batch) > 0 {
		done, err := a.exec(ctx, a.batch)
		switch {
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil && done < len(a.owners):
			o := a.owners[done]
			return a.s.m.statementError(a.steps[o.step], o.stmt, err)
		case err != nil:
			return err
		}
	}
	share := a.s.m.cfg.now().Sub(start) / time.Duration(len(a.waiting))
	for _, i := range a.waiting {
		a.entries[i].Duration = share
	}
	a.batch, a.owners, a.size, a.waiting = nil, nil, 0, nil
	return nil
}
