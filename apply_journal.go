package ratchet

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ratchetdb/ratchet/internal/versiontable"
	"github.com/ratchetdb/ratchet/repository"
	"github.com/ratchetdb/ratchet/sqlsplit"
)

// A journalled version is one that cannot run in one transaction: DDL commits implicitly on
// its dialect (MySQL, MariaDB), or its script starts with `-- ratchet:no-transaction`. Its
// statements run one by one on the session and ratchet_journal records, at every moment,
// exactly which are applied and which one is in flight:
//
//   - Consecutive statements that the database can roll back (DML on MySQL) run in one
//     transaction that also records them: they are applied and journalled together or not
//     at all, so a crash in the middle leaves them simply not applied.
//   - A statement that commits by itself is recorded as in flight before it runs. On MySQL,
//     which commits the open transaction before a DDL statement runs, that record rides in
//     the same round trip and on the DDL's own implicit commit; elsewhere (a no-transaction
//     script) it costs a commit of its own. After a crash, such a statement may or may not
//     have taken effect, and the operator says which ([InFlight]).
//   - When every statement ran, the history row, the version update and the removal of the
//     journal commit together.

// journalRun is one attempt at a journalled version.
type journalRun struct {
	s    *session
	step Step
	j    *versiontable.Journal
	// pending is true while a claim of the journal row waits, uncommitted, in a transaction
	// that the version's first statement (DDL) commits before it runs.
	pending bool
	// recorded is the statement the journal row names as running, as far as this run knows
	// what it committed: it stays there after the statement completed, until the next
	// write. j.Running, by contrast, is the statement running now (0 between statements).
	recorded int
	// sent is true once a statement of the version was sent to the database.
	sent bool
}

// applyJournalled applies a version that cannot run in one transaction. It returns nil, nil
// when another process applied it first.
func (s *session) applyJournalled(ctx context.Context, step Step) (*AppliedVersion, error) {
	j := &versiontable.Journal{Version: step.Version, Phase: step.Phase, Offline: step.Offline, Script: step.Script.Path, Total: max(1, len(step.Statements)), Earlier: step.Earlier}
	for i := range step.ResumeAt {
		j.Hashes = append(j.Hashes, journalHash(step, i))
	}
	r := &journalRun{s: s, step: step, j: j}
	skip, err := r.start(ctx)
	if err != nil || skip {
		return nil, contextError(ctx, err)
	}
	s.m.emit(Event{Kind: VersionStarted, From: step.From, Version: step.Version, Phase: step.Phase, Script: step.Script.Path})
	start := s.m.cfg.now()
	if err := r.run(ctx); err != nil {
		return nil, r.stopped(ctx, err)
	}
	e, err := r.finish(ctx, start)
	if err != nil {
		// Every statement ran: the journal records them all, and resuming finishes it.
		return nil, r.stopped(ctx, err)
	}
	return s.done(step, e), nil
}

// journalHash returns the journal hash of statement i of step: "go" for a Go migration.
func journalHash(step Step, i int) string {
	if step.Script.Kind == repository.Go {
		return "go"
	}
	return statementHash(step.Statements[i].Text)
}

// statementHash identifies an applied statement in the journal.
func statementHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:8])
}

// start records that the step starts, unless another process applied it meanwhile (skip).
// A resumed or retried version replaces the journal row of the attempt that stopped, in one
// transaction. A fresh attempt claims the row only while the version table still says the
// version it starts from; when its first statement commits implicitly, the claim is left in
// an open transaction that the statement commits before it runs, which saves a commit.
func (r *journalRun) start(ctx context.Context) (skip bool, err error) {
	s, step := r.s, r.step
	if step.Recovering {
		if skip, err := s.checkCurrent(ctx, s.conn, step); err != nil || skip {
			return skip, err
		}
		return false, s.bookkeepingTx(ctx, func() error { return s.table.ReplaceJournal(ctx, s.conn, r.j) })
	}
	if s.handedOver == step.Version {
		// The previous version's closing transaction, which advanced the version to this
		// step's From, handed the journal row over, naming the first statement as running.
		s.handedOver = 0
		r.recorded = 1
		return false, nil
	}
	pending := false
	if first, ok := r.firstToRun(); ok && s.m.dialect.CommitsImplicitly(first.Text) && s.m.multiStatementExec(ctx, s.conn) {
		pending = true
		r.j.Running = step.ResumeAt + 1 // the claim records the first statement in flight
	}
	claim := s.table.ClaimJournal(r.j, step.move())
	query := claim.Query
	if pending {
		query = s.m.dialect.BeginWrite() + ";\n" + query
	}
	res, err := s.conn.ExecContext(ctx, query, claim.Args...)
	if err != nil {
		if pending {
			s.rollback(ctx)
		}
		return false, fmt.Errorf("journalling version %d: %w", step.Version, err)
	}
	claimed, err := s.table.Claimed(res, r.j)
	if claimed && err == nil {
		r.pending = pending
		r.recorded = r.j.Running
		return false, nil
	}
	if pending {
		s.rollback(ctx)
	}
	r.j.Running = 0
	if err != nil {
		return false, err
	}
	// The version moved: applied meanwhile, or changed under the run (as in claim).
	skip, err = s.checkCurrent(ctx, s.conn, step)
	if err == nil && !skip {
		err = fmt.Errorf("journalling version %d: %w", step.Version, versiontable.ErrConcurrentUpdate)
	}
	return skip, err
}

// firstToRun returns the first statement the attempt runs.
func (r *journalRun) firstToRun() (sqlsplit.Statement, bool) {
	if r.step.Script.Kind != repository.SQL || r.step.ResumeAt >= len(r.step.Statements) {
		return sqlsplit.Statement{}, false
	}
	return r.step.Statements[r.step.ResumeAt], true
}

// run runs the step's statements from step.ResumeAt on.
func (r *journalRun) run(ctx context.Context) error {
	step := r.step
	if step.Script.Kind == repository.Go {
		return nil // runs with the bookkeeping, in finish
	}
	r.s.m.warnSkipped(step, step.ResumeAt)
	noTx := sqlsplit.NoTransaction(step.Script.SQL)
	rollsBack := func(i int) bool {
		return !noTx && (r.s.m.skips(step, i) || r.s.m.dialect.Rollbackable(step.Statements[i].Text))
	}
	stmts := step.Statements
	for i := step.ResumeAt; i < len(stmts); {
		if r.s.m.skips(step, i) && !rollsBack(i) {
			r.j.Hashes = append(r.j.Hashes, statementHash(stmts[i].Text)) // skipped
			i++
			continue
		}
		if !rollsBack(i) {
			if err := r.runAlone(ctx, i); err != nil {
				return err
			}
			i++
			continue
		}
		end := i + 1
		for end < len(stmts) && rollsBack(end) {
			end++
		}
		if err := r.runGroup(ctx, i, end); err != nil {
			return err
		}
		i = end
	}
	return nil
}

// runAlone runs statement i, which commits by itself, recording it as in flight first.
func (r *journalRun) runAlone(ctx context.Context, i int) error {
	s, j := r.s, r.j
	stmt := r.step.Statements[i].Text
	j.Running = i + 1
	var texts []command
	switch {
	case r.pending || r.recorded == i+1:
		// The claim (or the row handed over), which already says so, is committed or waits
		// in the transaction this statement commits.
	case s.m.dialect.CommitsImplicitly(stmt) && s.m.multiStatementExec(ctx, s.conn):
		// The statement commits the open transaction, and the record in it, before it runs.
		texts = commands(s.m.dialect.BeginWrite(), s.table.Progress(j, true).Query)
	default:
		// Outside any transaction nothing can carry the record: it takes a commit of its own.
		if err := s.table.RecordProgress(ctx, s.conn, j); err != nil {
			j.Running = 0
			return err
		}
		r.recorded = j.Running
	}
	if ctx.Err() != nil {
		j.Running = 0 // never sent
		return ctx.Err()
	}
	s.statementStarted(r.step, i)
	r.sent = true
	done, err := s.execAll(ctx, append(texts, scriptCommand(r.step.Statements[i])), nil)
	for k := 2; err != nil && done >= len(texts) && k <= ddlAttempts && s.lockWaitGaveUp(err) && s.waitToRetry(ctx, r.step, k, err); k++ {
		// The statement gave up waiting for its table lock and did not run; its record,
		// which says it runs, stays.
		texts = nil
		done, err = s.execAll(ctx, []command{scriptCommand(r.step.Statements[i])}, nil)
	}
	if err != nil {
		if ctx.Err() != nil || s.m.driver.ConnectionLost(err) {
			// The session is gone: the statement may have run. It stays in flight.
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return s.m.statementError(r.step, i, err)
		}
		if done < len(texts) {
			// The record failed, and the statement never ran.
			s.rollback(ctx)
			j.Running = 0
			return fmt.Errorf("journalling version %d: %w", j.Version, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return s.m.statementError(r.step, i, err)
	}
	r.pending = false
	r.recorded = j.Running // the row still names it: the next write records it done
	j.Running = 0
	j.Hashes = append(j.Hashes, statementHash(stmt))
	return nil
}

// runGroup runs statements from to end (exclusive), which the database can roll back, in
// one transaction that also records them: they are applied and journalled together or not
// at all. A statement recorded in flight before them, which has completed, is recorded so
// first, in a commit of its own: a crash during the group must not leave it in doubt.
func (r *journalRun) runGroup(ctx context.Context, from, end int) error {
	s, j, step := r.s, r.j, r.step
	var texts []command
	owner := []int{} // the statement index of each text; -1 for bookkeeping
	if r.recorded > 0 {
		texts, owner = append(texts, commands(s.table.Progress(j, true).Query)...), append(owner, -1)
	}
	for _, b := range s.beginStatements() {
		texts, owner = append(texts, commands(b)...), append(owner, -1)
	}
	after := *j
	after.Running = 0
	after.Hashes = append([]string(nil), j.Hashes...)
	for i := from; i < end; i++ {
		text := step.Statements[i].Text
		after.Hashes = append(after.Hashes, statementHash(text))
		if !s.m.skips(step, i) {
			texts, owner = append(texts, scriptCommand(step.Statements[i])), append(owner, i)
		}
	}
	texts, owner = append(texts, commands(s.table.Progress(&after, true).Query, "COMMIT")...), append(owner, -1, -1)
	r.sent = true
	done, err := s.execAll(ctx, texts, func(k int) {
		if owner[k] >= 0 {
			s.statementStarted(step, owner[k])
		}
	})
	if err == nil {
		r.recorded = 0
		j.Hashes = after.Hashes
		return nil
	}
	s.rollback(ctx)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case s.m.driver.ConnectionLost(err):
		// The server rolled the group back; which of its statements was running is unknown.
		return &ScriptError{Version: step.Version, Script: step.Script.Path, Err: err, ConnectionLost: true}
	case done < len(owner) && owner[done] >= 0:
		return s.m.statementError(step, owner[done], err)
	}
	return fmt.Errorf("journalling version %d: %w", j.Version, err)
}

// finish records the step applied: the history row, the removal of the journal and the
// conditional version update commit together — with a Go migration's own effects, which
// run in that transaction.
func (r *journalRun) finish(ctx context.Context, start time.Time) (*versiontable.Entry, error) {
	s, step := r.s, r.step
	if step.Script.Kind == repository.Go {
		var e versiontable.Entry
		err := s.goTx(ctx, func(tx *sql.Tx) error {
			if step.ResumeAt == 0 {
				if err := s.runGo(ctx, tx, step); err != nil {
					return err
				}
			}
			e = s.m.entry(step, start)
			return r.record(ctx, tx, e)
		})
		if err != nil {
			return nil, err
		}
		r.j.Hashes = []string{journalHash(step, 0)}
		return &e, nil
	}
	e := s.m.entry(step, start)
	if !s.m.dialect.TransactionalDDL() && s.m.multiStatementExec(ctx, s.conn) {
		// One round trip for the bookkeeping, one for the commit, once the version update
		// is known to have touched its row.
		// When the next version starts with a statement that commits by itself, the journal
		// row is handed over to it here, naming that statement as running: its implicit
		// commit then carries no record, and the version costs one redo flush less.
		next := r.handOver()
		stmts := s.table.FinishJournalStatements(step.move(), e, next)
		queries := []string{s.m.dialect.BeginWrite()}
		var args []any
		for _, st := range stmts {
			queries = append(queries, st.Query)
			args = append(args, st.Args...)
		}
		// Bookkeeping only: a cluster's certification conflict rolled all of it back.
		err := s.retryConflicts(ctx, func() error {
			res, err := s.conn.ExecContext(ctx, strings.Join(queries, ";\n"), args...)
			if err == nil {
				err = s.table.CheckAdvanced(res, step.move())
			}
			if err == nil {
				err = s.commit(ctx)
			}
			if err != nil {
				s.rollback(ctx)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if next != nil {
			s.handedOver = next.Version
		}
		return &e, nil
	}
	err := s.bookkeepingTx(ctx, func() error { return r.record(ctx, s.conn, e) })
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// handOver returns the journal the next step starts with, when the journal row can pass to
// it in this step's closing transaction: a fresh journalled SQL version whose first
// statement commits by itself. nil otherwise, and nil once the run cannot be sure that it
// holds the migration lock: it then stops before the next version with nothing of it
// recorded.
func (r *journalRun) handOver() *versiontable.Journal {
	next := r.s.next
	// Only to a step that moves the same position (the same phase), in the same window.
	if next == nil || r.s.checkLock() != nil || !next.Journalled || next.Recovering || next.Script == nil || next.Script.Kind != repository.SQL || len(next.Statements) == 0 ||
		next.Phase != r.step.Phase || r.step.closes || next.opens > 0 || next.From != r.step.Version ||
		r.s.m.skips(*next, 0) || !r.s.m.dialect.CommitsImplicitly(next.Statements[0].Text) {
		return nil
	}
	return &versiontable.Journal{Version: next.Version, Phase: next.Phase, Offline: next.Offline, Script: next.Script.Path, Total: len(next.Statements), Running: 1}
}

// record writes the bookkeeping of a completed step on q.
func (r *journalRun) record(ctx context.Context, q versiontable.Querier, e versiontable.Entry) error {
	s := r.s
	if err := s.table.Advance(ctx, q, r.step.move()); err != nil {
		return err
	}
	if err := s.table.Record(ctx, q, e); err != nil {
		return err
	}
	return s.table.DeleteJournal(ctx, q)
}

// stopped records in the journal why the version stopped, and returns the error to report.
// It writes with a context that is not cancelled, on the run's session or, if that session is
// gone (the driver drops it to cancel a statement; the server restarted), on a new one. An
// interruption is recorded without a message: the journal then says the version was
// interrupted, and whether a statement was in flight.
func (r *journalRun) stopped(ctx context.Context, err error) error {
	s, step, j := r.s, r.step, r.j
	detached := context.WithoutCancel(ctx)
	if r.pending {
		// The claim waits in an open transaction unless the first statement committed it.
		s.rollback(ctx)
		if jr, rerr := s.table.ReadJournal(detached, s.conn); rerr == nil && jr == nil {
			return contextError(ctx, err) // the version did not start
		}
	}
	interrupted := ctx.Err() != nil
	if !r.sent && j.Done() == 0 && !step.Recovering && step.Script.Kind == repository.SQL {
		// Nothing of the version reached the database: it did not start, and its journal
		// row (handed over by the previous version) goes.
		if derr := s.table.DeleteJournal(detached, s.conn); derr != nil && !s.m.driver.ConnectionLost(derr) {
			err = errors.Join(err, derr)
		}
		return contextError(ctx, err)
	}
	line, msg := 0, ""
	var se *ScriptError
	if errors.As(err, &se) {
		if se.Index > 0 {
			j.Running = se.Index
		} else if step.Script.Kind == repository.Go {
			j.Running = 1
		}
		if j.Done() == 0 && step.Script.Kind == repository.SQL && !se.ConnectionLost && !interrupted && !step.Recovering {
			// The first statement of a fresh attempt failed: nothing of the version is
			// applied, so it failed as a transactional version does, and the next run may
			// simply try it again.
			if derr := s.table.DeleteJournal(detached, s.conn); derr != nil {
				err = errors.Join(err, derr)
			}
			return err
		}
		se.Journalled, se.Applied, se.Total = true, j.Done(), j.Total
		if !se.ConnectionLost && !interrupted {
			line, msg = se.Line, se.Err.Error()
		}
	}
	if msg == "" && !r.inFlight(j.Running) {
		j.Running = 0 // interrupted between statements, or in one that rolled back
	}
	ferr := s.table.FailJournal(detached, s.conn, j, line, msg)
	if ferr != nil && s.m.driver.ConnectionLost(ferr) && s.m.dialect.Lock() != nil {
		// Only servers: an SQLite pool has the one connection, which never breaks.
		fctx, cancel := context.WithTimeout(detached, 5*time.Second)
		ferr = s.table.FailJournal(fctx, s.m.db, j, line, msg)
		cancel()
	}
	if ferr != nil && !s.m.driver.ConnectionLost(ferr) {
		err = errors.Join(err, ferr)
	}
	if interrupted {
		// Not contextError: what ran of this version could not be rolled back.
		return &interruptedError{fmt.Errorf("interrupted (%w): %w", ctx.Err(), stoppedError(j))}
	}
	return err
}

// inFlight reports whether statement k (1-based) commits by itself, so that it may have
// taken effect even though the run stopped before recording it.
func (r *journalRun) inFlight(k int) bool {
	if k <= 0 || k > len(r.step.Statements) || r.step.Script.Kind != repository.SQL {
		return false
	}
	st := r.step.Statements[k-1].Text
	return sqlsplit.NoTransaction(r.step.Script.SQL) || !r.s.m.dialect.Rollbackable(st)
}
