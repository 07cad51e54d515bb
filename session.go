package ratchet

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ratchetdb/ratchet/internal/lock"
	"github.com/ratchetdb/ratchet/internal/versiontable"
	"github.com/ratchetdb/ratchet/sqlsplit"
)

// session is the one connection a run works on, and what the run set up on it. Every
// statement of a run goes through it, so that the migration lock, the busy timeout and the
// bookkeeping's schema hold for exactly as long as the run's work on the database.
type session struct {
	m     *Migrator
	conn  *sql.Conn
	table *versiontable.Table // qualified in the schema resolved when the session opened
	// setting is the value of the dialect's session setting when the run started, which
	// every version starts from ([dialect.Dialect.ReadSetting]).
	setting    string
	hasSetting bool
	lock       *lock.Lock
	lease      *lock.Lease // the migration lock instead of lock, where a session lock cannot be one
	cluster    bool        // the server is a node of a cluster (Galera)
	undo       []string    // statements that restore the connection's settings, in order
	// broken is set when the connection is in a state that must not reach a pool: a
	// transaction that could not be ended, a setting that could not be restored.
	broken bool
	// next is the step after the one being applied, if any; handedOver is the version the
	// journal row was handed over to by the last step's closing transaction (0 for none).
	next       *Step
	handedOver int
	limits     *runLimits // the bounds of the run's data migrations
	// lockPending is true while a run that writes has yet to take its lease (see
	// openSession).
	lockPending bool
	// ddlLocal starts each transaction of an online phase (a bound on lock waits), and
	// ddlCodes are the error codes of a statement that gave up waiting (see bindDDLWait).
	ddlLocal string
	ddlCodes []string
}

// open returns a session on a connection of the Migrator's pool. It sets the busy timeout
// from the lock timeout (SQLite), takes the migration lock when migrate is true (servers),
// and resolves the schema the bookkeeping lives in.
func (m *Migrator) open(ctx context.Context, migrate bool) (_ *session, err error) {
	return m.openSession(ctx, migrate, false)
}

// openSession is open; with deferLease, a lease (which creates its table on first use) is
// not taken yet: the run takes it with takePendingLock once it knows it is not refused.
func (m *Migrator) openSession(ctx context.Context, migrate, deferLease bool) (_ *session, err error) {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	s := &session{m: m, conn: conn}
	defer func() {
		if err != nil {
			s.close(ctx)
		}
	}()
	if t := m.dialect.LockTimeout(); t != nil {
		var old int64
		if err := conn.QueryRowContext(ctx, t.Read).Scan(&old); err != nil {
			return nil, fmt.Errorf("reading the busy timeout: %w", err)
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(t.Set, m.cfg.lockTimeout.Milliseconds())); err != nil {
			return nil, fmt.Errorf("setting the busy timeout: %w", err)
		}
		s.undo = append(s.undo, fmt.Sprintf(t.Set, old))
	}
	if migrate {
		for _, w := range m.dialect.WriteSession() {
			var old string
			if err := conn.QueryRowContext(ctx, w.Read).Scan(&old); err != nil {
				return nil, fmt.Errorf("reading the session settings (%s): %w", w.Read, err)
			}
			if old == w.Want {
				continue
			}
			if _, err := conn.ExecContext(ctx, fmt.Sprintf(w.Set, w.Want)); err != nil {
				return nil, fmt.Errorf("setting up the session (%s): %w", fmt.Sprintf(w.Set, w.Want), err)
			}
			s.undo = append(s.undo, fmt.Sprintf(w.Set, old))
		}
	}
	schema, err := versiontable.Schema(ctx, m.dialect, conn)
	if err != nil {
		return nil, err
	}
	s.table = versiontable.New(m.dialect, schema, m.repo.VersionTable(), m.repo.ID())
	if err := s.joinCluster(ctx); err != nil {
		return nil, err
	}
	switch {
	case migrate && deferLease && s.useLease(s.cluster):
		s.lockPending = true
	case migrate:
		if err := s.lockMigration(ctx); err != nil {
			return nil, err
		}
	}
	// Only a run that writes begins transactions, which start from the run's setting.
	if q := m.dialect.ReadSetting(); q != "" && migrate {
		if err := conn.QueryRowContext(ctx, q).Scan(&s.setting); err != nil {
			return nil, fmt.Errorf("reading the session settings: %w", err)
		}
		s.hasSetting = true
	}
	return s, nil
}

// close releases the lock, restores the connection's settings and returns the connection
// to the pool — or discards it when any of that failed, so that no pool ever hands out a
// connection that still holds the lock, an open transaction or a run's settings. It works
// even when ctx is cancelled.
func (s *session) close(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	if err := s.releaseLock(ctx); err != nil {
		errs = append(errs, err)
	}
	for _, q := range s.undo {
		if _, err := s.conn.ExecContext(ctx, q); err != nil {
			errs = append(errs, fmt.Errorf("restoring the connection's settings (%s): %w", q, err))
		}
	}
	if len(errs) > 0 || s.broken {
		_ = s.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	s.conn.Close()
	return errors.Join(errs...)
}

// beginStatements start a transaction that writes, with the session setting back to the
// run's.
func (s *session) beginStatements() []string {
	stmts := []string{s.m.dialect.BeginWrite()}
	if s.hasSetting {
		stmts = append(stmts, s.m.dialect.ResetSetting(s.setting))
	}
	if s.ddlLocal != "" {
		stmts = append(stmts, s.ddlLocal)
	}
	return stmts
}

// begin starts a transaction that writes (see beginStatements).
func (s *session) begin(ctx context.Context) error {
	if _, err := s.execAll(ctx, commands(s.beginStatements()...), nil); err != nil {
		s.rollback(ctx)
		return fmt.Errorf("starting a transaction: %w", err)
	}
	return nil
}

// commit commits the open transaction.
func (s *session) commit(ctx context.Context) error {
	if _, err := s.conn.ExecContext(ctx, "COMMIT"); err != nil {
		s.rollback(ctx)
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// rollback ends the transaction open on the session, if any, even when ctx is cancelled.
// If that fails (the session is lost, or the database had already ended the transaction
// itself), the connection is discarded when the session closes rather than reused.
func (s *session) rollback(ctx context.Context) {
	if _, err := s.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
		s.broken = true
	}
}

// inTx runs fn in a transaction that writes and commits it, or rolls it back if fn fails
// or panics (a Go migration, an event handler: the session and its locks must not stay in a
// transaction).
func (s *session) inTx(ctx context.Context, fn func() error) (err error) {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			s.rollback(ctx)
			panic(p)
		}
	}()
	if err := fn(); err != nil {
		s.rollback(ctx)
		return err
	}
	return s.commit(ctx)
}

// inReadTx runs fn in a transaction that only reads, so that its reads see one snapshot.
func (s *session) inReadTx(ctx context.Context, fn func() error) error {
	if _, err := s.conn.ExecContext(ctx, "BEGIN"); err != nil {
		s.rollback(ctx)
		return fmt.Errorf("starting a transaction: %w", err)
	}
	if err := fn(); err != nil {
		s.rollback(ctx)
		return err
	}
	return s.commit(ctx)
}

// goTx runs fn in a database/sql transaction, for Go migrations, whose API takes a *sql.Tx.
// Its first statement must write (the version claim), so that SQLite takes the write lock
// at once whatever the caller's DSN says about BEGIN.
func (s *session) goTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("starting a transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	for _, q := range s.beginStatements()[1:] {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("starting a transaction: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			s.broken = true
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// command is one statement for execAll: its SQL and, for a COPY … FROM STDIN, its rows.
type command struct {
	sql       string
	fromStdin bool
	rows      string
}

// commands returns plain statements as commands.
func commands(stmts ...string) []command {
	cmds := make([]command, len(stmts))
	for i, st := range stmts {
		cmds[i] = command{sql: st}
	}
	return cmds
}

// scriptCommand returns a script's statement as a command.
func scriptCommand(st sqlsplit.Statement) command {
	return command{sql: st.Text, fromStdin: st.FromStdin, rows: st.Rows}
}

// execAll runs cmds in order on the session — the statements between two COPY … FROM STDIN
// in one round trip where the driver and the connection allow it, each COPY through the
// COPY protocol — and returns how many completed before the first failure. Nothing is ever
// sent twice. When statements go one per Exec, started (if not nil) is called with each
// one's index before it is sent.
func (s *session) execAll(ctx context.Context, cmds []command, started func(int)) (completed int, err error) {
	for completed < len(cmds) {
		if c := cmds[completed]; c.fromStdin {
			if started != nil {
				started(completed)
			}
			if err := s.copyFrom(ctx, c); err != nil {
				return completed, err
			}
			completed++
			continue
		}
		end := completed
		var stmts []string
		for end < len(cmds) && !cmds[end].fromStdin {
			stmts = append(stmts, cmds[end].sql)
			end++
		}
		from := completed
		n, err := s.execPlain(ctx, stmts, func(i int) {
			if started != nil {
				started(from + i)
			}
		})
		completed += n
		if err != nil {
			return completed, err
		}
	}
	return completed, nil
}

// copyFrom runs a COPY … FROM STDIN with its rows through the driver.
func (s *session) copyFrom(ctx context.Context, c command) error {
	cd, ok := s.m.driver.(CopyDriver)
	if !ok {
		return errors.New("COPY … FROM STDIN needs a driver that speaks the COPY protocol")
	}
	var err error
	rawErr := s.conn.Raw(func(dc any) error {
		err = cd.CopyFrom(ctx, dc, c.sql, strings.NewReader(c.rows))
		if err != nil && s.m.driver.ConnectionLost(err) {
			return driver.ErrBadConn
		}
		return nil
	})
	if err == nil {
		err = rawErr
	}
	return err
}

// execPlain runs plain statements, in one round trip where it can (see execAll).
func (s *session) execPlain(ctx context.Context, stmts []string, started func(int)) (completed int, err error) {
	if bd, ok := s.m.driver.(BatchDriver); ok && len(stmts) > 1 && s.m.multiStatementExec(ctx, s.conn) {
		rawErr := s.conn.Raw(func(dc any) error {
			completed, err = bd.ExecBatch(ctx, dc, stmts)
			if err != nil && s.m.driver.ConnectionLost(err) {
				return driver.ErrBadConn // database/sql must not reuse the connection
			}
			return nil
		})
		if err == nil && rawErr != nil {
			err = rawErr
		}
		return completed, err
	}
	for i, q := range stmts {
		if started != nil {
			started(i)
		}
		if _, err := s.conn.ExecContext(ctx, q); err != nil {
			return i, err
		}
	}
	return len(stmts), nil
}

// hold sets an SQLite connection up for a run that writes (see [dialect.HoldSQL]): from its
// first write transaction to its end the connection keeps the file's lock, as the server
// dialects keep their migration lock, and a journal that is deleted at each commit is kept
// instead. A database in WAL mode, persistent and its owner's choice, is left as it is (its
// readers need not wait for a writer). The close of the session restores both settings.
// held reports whether this call took the file's lock, waiting for other writers.
func (s *session) hold(ctx context.Context) (held bool, err error) {
	h := s.m.dialect.Hold()
	if h == nil {
		return false, nil
	}
	var journal, locking string
	if err := s.conn.QueryRowContext(ctx, h.ReadJournal).Scan(&journal); err != nil {
		return false, fmt.Errorf("reading the journal mode: %w", err)
	}
	journal = strings.ToLower(journal)
	if slices.Contains(h.Unheld, journal) {
		return false, nil
	}
	if err := s.conn.QueryRowContext(ctx, h.ReadLocking).Scan(&locking); err != nil {
		return false, fmt.Errorf("reading the locking mode: %w", err)
	}
	if slices.Contains(h.Replace, journal) {
		var mode string
		if err := s.conn.QueryRowContext(ctx, fmt.Sprintf(h.SetJournal, h.Keep)).Scan(&mode); err != nil {
			return false, fmt.Errorf("setting the journal mode: %w", err)
		}
		s.undo = append([]string{fmt.Sprintf(h.SetJournal, journal)}, s.undo...)
	}
	if strings.EqualFold(locking, h.Held) {
		return false, nil
	}
	// The write lock first, then the exclusive mode inside that transaction: a connection
	// that turned exclusive while waiting for another writer would keep the read lock that
	// writer waits for.
	if _, err := s.conn.ExecContext(ctx, h.BeginLocking); err != nil {
		return false, fmt.Errorf("starting a transaction: %w", err)
	}
	var mode string
	err = s.conn.QueryRowContext(ctx, h.Exclusive).Scan(&mode)
	if err == nil {
		// The lock goes at the connection's next access once the mode is normal again.
		s.undo = append([]string{h.Release}, s.undo...)
		if _, err = s.conn.ExecContext(ctx, "COMMIT"); err == nil {
			return true, nil
		}
	}
	s.rollback(ctx)
	return false, fmt.Errorf("holding the database file: %w", err)
}
