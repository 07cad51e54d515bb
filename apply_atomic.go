package ratchet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// checkAtomic refuses an atomic upgrade that cannot be one transaction.
func (m *Migrator) checkAtomic(plan *Plan) error {
	if !m.dialect.TransactionalDDL {
		return fmt.Errorf("%w: DDL commits implicitly on %s; run without --atomic (each version is then journalled statement by statement)", ErrNotAtomic, m.dialect.Name)
	}
	for _, s := range plan.Steps {
		if s.Journalled {
			return fmt.Errorf("%w: %s must run outside a transaction (-- ratchet:no-transaction); run without --atomic", ErrNotAtomic, s.Script.Path)
		}
	}
	return nil
}

// applyAtomic stamps an empty database and applies every step in one transaction, with each
// step's version update and history row. A failure rolls everything back, stamp included.
func (m *Migrator) applyAtomic(ctx context.Context, conn *sql.Conn, plan *Plan) (*Result, error) {
	res, err := m.applyAtomicMode(ctx, conn, plan, batched)
	var batch *errBatchFailed
	if errors.As(err, &batch) {
		res, err = m.applyAtomicMode(ctx, conn, plan, locating) // see applyStep
	}
	return res, err
}

func (m *Migrator) applyAtomicMode(ctx context.Context, conn *sql.Conn, plan *Plan, mode runMode) (*Result, error) {
	res := &Result{Start: plan.Current, End: plan.Current}
	var applied []AppliedVersion
	var steps []Step
	err := inTx(ctx, conn, func(tx *sql.Tx) error {
		st, err := m.readState(ctx, tx)
		if err != nil {
			return err
		}
		if !st.controlled {
			if err := st.controllable(); err != nil {
				return err
			}
			if err := m.stamp(ctx, tx, st, 0); err != nil {
				return err
			}
			res.Stamped = true
		}
		if len(plan.Steps) > 0 {
			if err := m.table.CreateHistory(ctx, tx); err != nil {
				return err
			}
		}
		for _, step := range plan.Steps {
			if skip, err := m.checkCurrent(ctx, tx, step); err != nil || skip {
				if err != nil {
					return err
				}
				continue
			}
			start := m.cfg.now()
			n, err := m.runScript(ctx, tx, step, mode)
			if err != nil {
				return err
			}
			a, err := m.finish(ctx, tx, step, start, n)
			if err != nil {
				return err
			}
			applied = append(applied, *a)
			steps = append(steps, step)
		}
		return nil
	})
	var batch *errBatchFailed
	if errors.As(err, &batch) {
		return nil, err
	}
	if err != nil {
		return &Result{Start: plan.Current, End: plan.Current}, contextError(ctx, err)
	}
	if res.Stamped {
		m.emit(Event{Kind: Stamped})
	}
	for i := range applied {
		m.emitApplied(steps[i], &applied[i])
		res.End = applied[i].Version
	}
	res.Applied = applied
	return res, nil
}
