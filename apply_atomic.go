package ratchet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ratchetdb/ratchet/repository"
	"github.com/ratchetdb/ratchet/internal/versiontable"
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
		if s.Recovering {
			return fmt.Errorf("%w: version %d stopped part way; resume or retry it without --atomic", ErrNotAtomic, s.Version)
		}
	}
	return nil
}

// maxBatchSize bounds the SQL text sent in one round trip by an atomic upgrade: beyond a
// few dozen versions per round trip there is nothing left to gain, only memory to hold it.
const maxBatchSize = 64 << 10

// applyAtomic stamps an empty database and applies every step in one transaction, with each
// step's version update and history row. A failure rolls everything back, stamp included.
func (m *Migrator) applyAtomic(ctx context.Context, conn *sql.Conn, plan *Plan) (*Result, error) {
	return locateFailure(func(mode runMode) (*Result, error) {
		return m.applyAtomicMode(ctx, conn, plan, mode)
	})
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
		// The version was read in this transaction, which holds the write lock: the steps
		// need no re-check each, and the bookkeeping is written once, at the end.
		var entries []versiontable.Entry
		from := st.version
		var b batch
		var waiting []int // the entries whose statements wait in b
		flush := func() error {
			if b.len() == 0 {
				return nil
			}
			start := m.cfg.now()
			if err := b.exec(ctx, tx); err != nil {
				return err
			}
			// One round trip ran these versions: they share its time.
			share := m.cfg.now().Sub(start) / time.Duration(len(waiting))
			for _, i := range waiting {
				entries[i].Duration = share
			}
			b, waiting = batch{}, nil
			return nil
		}
		for _, step := range plan.Steps {
			if step.Version <= st.version {
				continue // applied meanwhile by another process
			}
			if len(entries) == 0 && step.From != st.version {
				return fmt.Errorf("version %d cannot be applied: the database is at version %d (changed by another process?)", step.Version, st.version)
			}
			if mode == batched && step.Script.Kind == repository.SQL && m.multiStatementExec(ctx, tx) {
				run := m.runnable(step, step.Statements, mode)
				for _, s := range run {
					b.add(&step, s)
				}
				entries = append(entries, m.entry(step, m.cfg.now(), len(run)))
				steps = append(steps, step)
				waiting = append(waiting, len(entries)-1)
				if b.size() >= maxBatchSize {
					if err := flush(); err != nil {
						return err
					}
				}
				continue
			}
			if err := flush(); err != nil {
				return err
			}
			start := m.cfg.now()
			n, err := m.runScript(ctx, tx, step, mode)
			if err != nil {
				return err
			}
			entries = append(entries, m.entry(step, start, n))
			steps = append(steps, step)
		}
		if err := flush(); err != nil {
			return err
		}
		if len(entries) == 0 {
			return nil
		}
		for _, e := range entries {
			applied = append(applied, AppliedVersion{Version: e.Version, Script: e.Script, Statements: e.Statements, Duration: e.Duration})
		}
		if err := m.table.Advance(ctx, tx, from, entries[len(entries)-1].Version); err != nil {
			return err
		}
		return m.table.RecordAll(ctx, tx, entries)
	})
	var failed *errBatchFailed
	if errors.As(err, &failed) {
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
