package ratchet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/versiontable"
	"github.com/ratchetdb/ratchet/repository"
)

// A data migration runs in batches while both releases write: each batch commits together
// with the window's checkpoint (the cursor, the rows so far), so a run that stops — a limit, a
// crash, Ctrl-C — leaves every committed batch recorded and nothing else, on every dialect
// (DML is transactional in InnoDB too). The truth about what remains is the pending query,
// not the cursor: rows the old release writes behind the cursor are found by one more sweep.

// dataMigration is how a migrate step runs.
type dataMigration struct {
	repeat    bool   // run statement until it changes no row
	statement int    // the index of the repeated statement
	pending   string // the query that finds work left, "" for none
	goData    *repository.DataMigration
}

// canTell reports whether the migration has a pending query: a way to tell whether work is
// left without running a batch.
func (d *dataMigration) canTell() bool { return d != nil && (d.pending != "" || d.goData != nil) }

// batched reports whether the step runs in batches (rather than once, as a script).
func (d *dataMigration) batched() bool { return d != nil && (d.repeat || d.goData != nil) }

// Batched reports whether the step is a data migration that runs in batches: a Go
// [repository.DataMigration], or an SQL statement repeated until it changes no row.
func (st Step) Batched() bool { return st.data.batched() }

// dataLimits bound one run of the migrate phase.
type dataLimits struct {
	batchSize   int
	batchDelay  time.Duration
	maxRows     int64
	maxDuration time.Duration
}

// defaultBatchSize is the batch limit given to Go data migrations.
const defaultBatchSize = 1000

// runLimits is a run's use of its limits.
type runLimits struct {
	dataLimits
	start   time.Time
	rows    int64 // rows changed so far by this run
	batches int64 // batches committed so far by this run
}

func newLimits(l dataLimits, now time.Time) *runLimits {
	if l.batchSize <= 0 {
		l.batchSize = defaultBatchSize
	}
	return &runLimits{dataLimits: l, start: now}
}

// reached names the limit that stops the run now, or "".
func (l *runLimits) reached(now time.Time) string {
	switch {
	case l == nil || l.batches == 0:
		return "" // the limits are checked after each batch: a run makes progress
	case l.maxRows > 0 && l.rows >= l.maxRows:
		return "--max-rows"
	case l.maxDuration > 0 && now.Sub(l.start) >= l.maxDuration:
		return "--max-duration"
	}
	return ""
}

// MaxRows stops a data migration run once its batches changed at least n rows (checked after
// each batch); the run then ends with a [*DataPendingError] if work remains.
func MaxRows(n int64) UpgradeOption {
	return upgradeOptionFunc(func(c *upgradeConfig) { c.data.maxRows = n })
}

// MaxDuration stops a data migration run once it ran for d (checked after each batch).
func MaxDuration(d time.Duration) UpgradeOption {
	return upgradeOptionFunc(func(c *upgradeConfig) { c.data.maxDuration = d })
}

// BatchSize is the number of rows a Go data migration's batch may change (default 1000). SQL
// data migrations write their limit in their statement.
func BatchSize(n int) UpgradeOption {
	return upgradeOptionFunc(func(c *upgradeConfig) { c.data.batchSize = n })
}

// BatchDelay pauses between batches, leaving the database to the service.
func BatchDelay(d time.Duration) UpgradeOption {
	return upgradeOptionFunc(func(c *upgradeConfig) { c.data.batchDelay = d })
}

// applyData runs a data migration in batches, then records it complete. Its result counts the
// rows this run changed, also when the run stops with work left.
func (s *session) applyData(ctx context.Context, step Step) (*AppliedVersion, error) {
	w, err := s.table.ReadWindow(ctx, s.conn)
	switch {
	case err != nil:
		return nil, err
	case w == nil || (w.Migrated >= step.Version && !step.resweep):
		return nil, nil // completed meanwhile by another run
	case w.Migrated != step.From && !step.resweep:
		return nil, fmt.Errorf("%s cannot be applied: the migrated version is %d (changed by another process?)", step.describe(), w.Migrated)
	}
	s.m.emit(Event{Kind: VersionStarted, From: step.From, Version: step.Version, Phase: step.Phase, Script: step.Script.Path})
	start := s.m.cfg.now()
	// The checkpoints check the window's cursor as it is, also when it belongs to another
	// version (left by the sweep of a migration recorded complete): only this version's
	// cursor is where its batches go on from.
	b := &batcher{s: s, step: step, migrated: w.Migrated, cursorVersion: w.CursorVersion, cursor: w.Cursor}
	if w.CursorVersion == step.Version {
		b.from, b.total = w.Cursor, w.Rows
	}
	a := &AppliedVersion{Version: step.Version, Phase: step.Phase, Script: step.Script.Path}
	swept := false
	for {
		done, err := b.run(ctx)
		a.Rows, a.Statements, a.Duration = b.rows, int(b.batches), s.m.cfg.now().Sub(start)
		if err != nil {
			return a, err
		}
		if b.elsewhere {
			a.Duration, a.Done = s.m.cfg.now().Sub(start), true
			return a, nil // another run completed it
		}
		// Whether work is left is the pending query's to say, also when a limit stopped the
		// run: its last batch may have finished the migration. Without a query, only a batch
		// that changed nothing can tell.
		pending := !done
		if done || step.data.canTell() {
			if pending, err = s.pendingOne(ctx, step); err != nil {
				return a, err
			}
		}
		if !pending {
			break
		}
		if !done {
			s.m.emit(Event{Kind: VersionStopped, From: step.From, Version: step.Version, Phase: step.Phase, Script: step.Script.Path,
				Statements: a.Statements, Duration: a.Duration, Rows: a.Rows})
			return a, &DataPendingError{Versions: []int{step.Version}, Limit: s.limits.reached(s.m.cfg.now())}
		}
		if swept {
			return a, &DataPendingError{Versions: []int{step.Version}}
		}
		// Rows written behind the cursor (by the old release, without a trigger): one more
		// sweep from the start.
		swept, b.from = true, ""
	}
	entry := s.m.entry(step, start)
	entry.Statements = int(b.batches)
	if step.resweep {
		// The version was recorded complete before: the sweep only caught up with rows the
		// old release wrote since.
		a.Duration, a.Done = s.m.cfg.now().Sub(start), true
		return a, nil
	}
	recorded := false
	err = s.bookkeepingTx(ctx, func() error {
		if skip, err := s.claim(ctx, s.conn, step); err != nil || skip {
			return err // skip: another run recorded it complete meanwhile
		}
		recorded = true
		return s.table.Record(ctx, s.conn, entry)
	})
	if err != nil {
		return a, contextError(ctx, err)
	}
	if !recorded {
		a.Duration, a.Done = entry.Duration, true
		return a, nil
	}
	a.Duration, a.Done = entry.Duration, true
	s.m.emitApplied(step, a)
	return a, nil
}

// batcher runs the batches of one data migration.
type batcher struct {
	s             *session
	step          Step
	migrated      int    // the window's migrated version, which the checkpoints check
	cursorVersion int    // the version the window's cursor belongs to, 0 for none yet
	cursor        string // the window's cursor, which the next checkpoint checks
	from          string // where the next batch starts: the cursor, or "" for a new sweep
	total         int64  // rows changed by every run so far
	rows, batches int64  // rows changed and batches committed by this run
	elsewhere     bool   // another run completed the migration meanwhile
}

// run runs batches until the migration says it is done (done true) or a limit stops it
// (done false).
func (b *batcher) run(ctx context.Context) (done bool, err error) {
	s := b.s
	for {
		if s.limits.reached(s.m.cfg.now()) != "" {
			return false, nil
		}
		// A long migration checks its lock before every batch, not only before every part.
		if err := s.checkLock(); err != nil {
			return false, fmt.Errorf("stopping before the next batch of %s: %w", b.step.describe(), err)
		}
		p, err := b.batch(ctx)
		if errors.Is(err, versiontable.ErrConcurrentUpdate) && ctx.Err() == nil {
			// Another run committed a batch of this migration meanwhile (where no lock
			// serializes the runs): this batch was rolled back; go on from the window's
			// checkpoint, or stop if that run completed the migration.
			if done, err := b.catchUp(ctx); err != nil || done {
				return done, err
			}
			continue
		}
		if err != nil {
			return false, b.interrupted(ctx, err)
		}
		b.rows += p.Rows
		b.total += p.Rows
		b.batches++
		s.limits.rows += p.Rows
		s.limits.batches++
		b.cursorVersion, b.cursor, b.from = b.step.Version, p.Cursor, p.Cursor
		if p.Done {
			return true, nil
		}
		if d := s.limits.batchDelay; d > 0 {
			select {
			case <-ctx.Done():
				return false, b.interrupted(ctx, ctx.Err())
			case <-time.After(d):
			}
		}
	}
}

// catchUp re-reads the window after another run moved it: done when that run completed the
// migration.
func (b *batcher) catchUp(ctx context.Context) (done bool, err error) {
	w, err := b.s.table.ReadWindow(ctx, b.s.conn)
	switch {
	case err != nil:
		return false, err
	case w == nil || (w.Migrated >= b.step.Version && !b.step.resweep):
		b.elsewhere = true
		return true, nil
	case w.Migrated != b.migrated:
		return false, fmt.Errorf("%s cannot go on: the migrated version is %d (changed by another process?)", b.step.describe(), w.Migrated)
	}
	b.cursorVersion, b.cursor, b.from = w.CursorVersion, w.Cursor, w.Cursor
	if w.CursorVersion != b.step.Version {
		b.from = "" // another version's cursor: checked by the next checkpoint, not a start
	}
	return false, nil
}

// interrupted says what an interrupted data migration leaves: the running batch rolled back,
// the committed ones recorded.
func (b *batcher) interrupted(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	return &interruptedError{fmt.Errorf("interrupted (%w): the running batch of version %d was rolled back; the %d rows of the batches before it stay migrated and recorded",
		ctx.Err(), b.step.Version, b.rows)}
}

// batch runs and commits one batch with its checkpoint, again when a conflict with another
// writer (a deadlock, a cluster's certification failure) rolled all of it back.
func (b *batcher) batch(ctx context.Context) (p repository.Progress, err error) {
	err = b.s.retryConflicts(ctx, func() error {
		p, err = b.batchOnce(ctx)
		return err
	})
	return p, err
}

// batchOnce runs and commits one batch with its checkpoint.
func (b *batcher) batchOnce(ctx context.Context) (repository.Progress, error) {
	s, step := b.s, b.step
	// checkpoint checks the window is where the batch started — the cursor of version
	// cursorVersion — and records p.
	checkpoint := func(q versiontable.Querier, cursorVersion int, p repository.Progress) error {
		err := s.table.Checkpoint(ctx, q, b.migrated, step.Version, cursorVersion, b.cursor, p.Cursor, p.Rows)
		if errors.Is(err, versiontable.ErrConcurrentUpdate) {
			return fmt.Errorf("%s: the window changed under the run (another process is migrating?): %w", step.describe(), err)
		}
		return err
	}
	if g := step.data.goData; g != nil {
		var p repository.Progress
		err := s.goTx(ctx, func(tx *sql.Tx) error {
			// The checkpoint's check first: it takes the write lock (SQLite) before the batch
			// reads, and proves the window is where this run left it.
			if err := checkpoint(tx, b.cursorVersion, repository.Progress{Cursor: b.cursor}); err != nil {
				return err
			}
			var err error
			p, err = g.Batch(dialect.NewContext(ctx, s.m.dialect), tx, repository.Batch{Limit: s.limits.batchSize, Cursor: b.from})
			if err != nil {
				return &ScriptError{Version: step.Version, Script: step.Script.Path, Err: err, Code: s.m.driver.ErrorCode(err)}
			}
			return checkpoint(tx, step.Version, p)
		})
		return p, err
	}
	var p repository.Progress
	err := s.inTx(ctx, func() error {
		res, err := s.conn.ExecContext(ctx, step.Statements[step.data.statement].Text)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return s.m.statementError(step, step.data.statement, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return s.m.statementError(step, step.data.statement, err)
		}
		p = repository.Progress{Rows: n, Done: n == 0}
		return checkpoint(s.conn, b.cursorVersion, p)
	})
	return p, err
}

// pendingOne asks a data migration whether work remains; false when it has no way to tell.
func (s *session) pendingOne(ctx context.Context, step Step) (bool, error) {
	d := step.data
	switch {
	case d == nil:
		return false, nil
	case d.goData != nil:
		pending, err := d.goData.Pending(dialect.NewContext(ctx, s.m.dialect), s.conn)
		if err != nil {
			return false, &ScriptError{Version: step.Version, Script: step.Script.Path, Err: fmt.Errorf("pending: %w", err), Code: s.m.driver.ErrorCode(err)}
		}
		return pending, nil
	case d.pending == "":
		return false, nil
	}
	rows, err := s.conn.QueryContext(ctx, d.pending)
	if err != nil {
		return false, &ScriptError{Version: step.Version, Script: step.Script.Path, Err: fmt.Errorf("-- ratchet:pending query: %w", err), Code: s.m.driver.ErrorCode(err)}
	}
	defer rows.Close()
	found := rows.Next()
	if err := rows.Err(); err != nil {
		return false, &ScriptError{Version: step.Version, Script: step.Script.Path, Err: fmt.Errorf("-- ratchet:pending query: %w", err), Code: s.m.driver.ErrorCode(err)}
	}
	return found, nil
}

// pendingData returns the versions of st's window up to migrated whose data migration says
// work remains. Contracted versions are not asked, nor one whose contract stopped part way:
// their queries may name what the contract dropped.
func (s *session) pendingData(ctx context.Context, st state, migrated int) ([]int, error) {
	c := st.version
	if j := st.journal; j != nil && j.Phase == repository.OpContract {
		c = max(c, j.Version)
	}
	var out []int
	parts, err := s.m.parts(repository.OpMigrate, c, migrated)
	if err != nil {
		return nil, err
	}
	for _, step := range parts {
		v := step.Version
		pending, err := s.pendingOne(ctx, step)
		if err != nil && s.contractedMeanwhile(ctx, v) {
			// Another run contracted the version after the state was read (where no lock
			// keeps a reader out): its query may name what the contract dropped.
			continue
		}
		if err != nil {
			return nil, err
		}
		if pending {
			out = append(out, v)
		}
	}
	return out, nil
}

// contractedMeanwhile reports whether version v is contracted now, or its contract has
// started, after the state a run read said otherwise.
func (s *session) contractedMeanwhile(ctx context.Context, v int) bool {
	ctx = context.WithoutCancel(ctx)
	if cur, _, err := s.table.Version(ctx, s.conn); err == nil && cur >= v {
		return true
	}
	tables, err := s.table.ListTables(ctx, s.conn)
	if err != nil || !slices.Contains(tables, versiontable.JournalTable) {
		return false
	}
	j, err := s.table.ReadJournal(ctx, s.conn)
	return err == nil && j != nil && j.Phase == repository.OpContract && j.Version == v
}
