package ratchet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"sync"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/lock"
	"github.com/ratchetdb/ratchet/repository"
	"github.com/ratchetdb/ratchet/internal/versiontable"
)

// Latest is the target version meaning "the repository's latest version".
const Latest = -1

// Migrator applies a repository's versions to one database. It is safe for concurrent use;
// concurrent migrations of the same database, from this process or others, are serialised
// by the database (see the package documentation on locking).
type Migrator struct {
	db      *sql.DB
	dialect dialect.Dialect
	repo    *repository.Repository
	table   *versiontable.Table
	cfg     config

	multi struct { // whether the pool's connections take several statements per Exec
		sync.Mutex
		known, ok bool
	}
}

type config struct {
	logger      *slog.Logger
	events      func(Event)
	repoPath    string
	appliedBy   string
	lockTimeout time.Duration
	now         func() time.Time
}

// Option configures a [Migrator].
type Option interface{ apply(*config) error }

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

// WithLogger sets the logger for diagnostic messages. The default discards them.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) error {
		if l == nil {
			return errors.New("ratchet: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	})
}

// WithEvents sets a function called, synchronously and in order, for each [Event] of a
// migration: a version started or applied, a warning. Use it to report progress.
func WithEvents(fn func(Event)) Option {
	return optionFunc(func(c *config) error {
		if fn == nil {
			return errors.New("ratchet: WithEvents: nil function")
		}
		c.events = fn
		return nil
	})
}

// WithRepositoryPath sets the path stored in the version table's informational
// repository_path column when a database is put under version control. The default is the
// repository's own [repository.Repository.Path].
func WithRepositoryPath(path string) Option {
	return optionFunc(func(c *config) error { c.repoPath = path; return nil })
}

// WithAppliedBy sets who applied the versions, as recorded in the history table. The default
// is "user@host" of the running process.
func WithAppliedBy(who string) Option {
	return optionFunc(func(c *config) error {
		if who == "" {
			return errors.New("ratchet: WithAppliedBy: empty name")
		}
		c.appliedBy = who
		return nil
	})
}

// WithLockTimeout sets how long an upgrade or version_control waits for another process
// migrating the same database (default 60s). On SQLite it is the caller's busy timeout that
// bounds the wait (the `_pragma=busy_timeout` DSN parameter).
func WithLockTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("ratchet: WithLockTimeout: %v is not positive", d)
		}
		c.lockTimeout = d
		return nil
	})
}

// New returns a Migrator for repo on db, a database of dialect d. It does not touch the
// database: the version table is created only by [Migrator.VersionControl] and by upgrades of
// an empty database.
func New(db *sql.DB, d dialect.Dialect, repo *repository.Repository, opts ...Option) (*Migrator, error) {
	switch {
	case db == nil:
		return nil, errors.New("ratchet: New: nil *sql.DB")
	case d == nil:
		return nil, errors.New("ratchet: New: nil dialect")
	case repo == nil:
		return nil, errors.New("ratchet: New: nil repository")
	}
	cfg := config{
		logger:      slog.New(slog.DiscardHandler),
		events:      func(Event) {},
		repoPath:    repo.Path(),
		appliedBy:   defaultAppliedBy(),
		lockTimeout: 60 * time.Second,
		now:         time.Now,
	}
	for _, o := range opts {
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	return &Migrator{
		db:      db,
		dialect: d,
		repo:    repo,
		table:   versiontable.New(d, repo.VersionTable(), repo.ID()),
		cfg:     cfg,
	}, nil
}

func defaultAppliedBy() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if host, err := os.Hostname(); err == nil {
		name += "@" + host
	}
	return name
}

// Dialect returns the Migrator's dialect.
func (m *Migrator) Dialect() dialect.Dialect { return m.dialect }

// Repository returns the Migrator's repository.
func (m *Migrator) Repository() *repository.Repository { return m.repo }

// Version returns the database's current version. A database with no tables other than the
// bookkeeping ones, or whose version table has rows of other repositories only, is at version
// 0; nothing is written. A database with other tables and no row for the repository gives a
// [*NotControlledError].
func (m *Migrator) Version(ctx context.Context) (int, error) {
	st, err := m.controlledState(ctx, m.db)
	if err != nil {
		return 0, err
	}
	return st.version, nil
}

// VersionControl puts the database under version control at version (0 for "nothing
// applied"), creating the version table if needed. It refuses a version the repository does
// not have and a database that already has a row for the repository ([*AlreadyControlledError]).
// Like the legacy tool, it does not check that the schema matches the version: it is the way
// to take over an existing database.
func (m *Migrator) VersionControl(ctx context.Context, version int) error {
	if err := m.checkVersion(version); err != nil {
		return err
	}
	conn, release, err := m.session(ctx)
	if err != nil {
		return err
	}
	defer release()
	return m.busy(inTx(ctx, conn, func(tx *sql.Tx) error {
		st, err := m.readState(ctx, tx)
		if err != nil {
			return err
		}
		if st.controlled {
			return &AlreadyControlledError{Version: st.version}
		}
		return m.stamp(ctx, tx, st, version)
	}))
}

// checkVersion validates an explicit version number against the repository.
func (m *Migrator) checkVersion(v int) error {
	switch {
	case v < 0:
		return &InvalidVersionError{Version: v}
	case m.dialect.MaxVersion > 0 && v > m.dialect.MaxVersion:
		return m.tooLarge(v)
	case v == 0 || m.repo.Has(v):
		return nil
	default:
		return &VersionNotFoundError{Version: v, Target: v, Latest: m.repo.Latest()}
	}
}

// stamp creates the version table if st says it is missing and inserts the repository's row.
func (m *Migrator) stamp(ctx context.Context, q versiontable.Querier, st state, version int) error {
	if !st.hasVersionTable {
		if err := m.table.Create(ctx, q); err != nil {
			return err
		}
	}
	return m.table.Stamp(ctx, q, m.cfg.repoPath, version)
}

// session returns the connection a run works on, holding the cross-process migration lock
// where the dialect has one. Every statement of the run goes through it, so the lock lasts
// exactly as long as the work on the server. release unlocks and returns the connection.
func (m *Migrator) session(ctx context.Context) (conn *sql.Conn, release func(), err error) {
	conn, err = m.db.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting: %w", err)
	}
	l, err := lock.Acquire(ctx, conn, m.dialect, m.repo.ID(), m.cfg.lockTimeout)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, func() {
		l.Release(context.WithoutCancel(ctx))
		conn.Close()
	}, nil
}

// tooLarge reports a version the version table cannot hold on this dialect.
func (m *Migrator) tooLarge(v int) error {
	return fmt.Errorf("%w: version %d does not fit the version table's INTEGER column on %s (at most %d); timestamp-numbered repositories need SQLite",
		ErrInvalidVersion, v, m.dialect.Name, m.dialect.MaxVersion)
}

// busy turns a database's "gave up waiting for another writer" error into the same
// [*lock.TimeoutError] the server dialects' lock gives.
func (m *Migrator) busy(err error) error {
	if err != nil && m.dialect.BusyCode != "" && ErrorCode(err) == m.dialect.BusyCode {
		return fmt.Errorf("%w (%v)", &lock.TimeoutError{Timeout: m.cfg.lockTimeout}, err)
	}
	return err
}

// inTx runs fn in a transaction on conn and commits it, or rolls back if fn fails.
func inTx(ctx context.Context, conn *sql.Conn, fn func(*sql.Tx) error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("starting a transaction: %w", err)
	}
	defer func() {
		// A panic (in a Go migration, an event handler) must not leave the transaction,
		// and with it the session and its locks, open.
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}
