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
	"github.com/ratchetdb/ratchet/internal/versiontable"
	"github.com/ratchetdb/ratchet/repository"
)

// Latest is the target version meaning "the repository's latest version".
const Latest = -1

// Migrator applies a repository's versions to one database. It is safe for concurrent use;
// concurrent migrations of the same database, from this process or others, are serialised
// by the database (see the package documentation on locking).
type Migrator struct {
	db      *sql.DB
	dialect dialect.Dialect
	driver  Driver
	repo    *repository.Repository
	cfg     config

	multi struct { // whether the pool's connections take several statements per Exec
		sync.Mutex
		known, ok bool
	}
}

type config struct {
	driver      Driver
	logger      *slog.Logger
	events      func(Event)
	repoPath    string
	appliedBy   string
	lockTimeout time.Duration
	now         func() time.Time
	// lockMethod and leaseDuration: see [WithLock], [WithLeaseDuration].
	lockMethod    LockMethod
	leaseDuration time.Duration
}

// Option configures a [Migrator].
type Option interface{ apply(*config) error }

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

// WithDriver sets what the engine learns from the database driver behind the *sql.DB: its
// error codes, lost sessions and, for a [BatchDriver], running a version's statements in one
// round trip. The packages under drivers/ provide one for each supported driver. Without it,
// statements run one per Exec and error codes come from the methods drivers commonly
// implement (SQLState, Code).
func WithDriver(d Driver) Option {
	return optionFunc(func(c *config) error {
		if d == nil {
			return errors.New("ratchet: WithDriver: nil driver")
		}
		c.driver = d
		return nil
	})
}

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
// migrating the same database (default 60s). On SQLite it is the busy timeout of the
// Migrator's connection while it works, whatever the caller's DSN says: a file another
// connection keeps locked for longer gives the same [*LockTimeoutError] as the servers.
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
	case !d.Valid():
		return nil, fmt.Errorf("ratchet: New: invalid dialect %v", d)
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
		driver:      genericDriver{},
	}
	cfg.leaseDuration = DefaultLeaseDuration
	for _, o := range opts {
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	// PostgreSQL would truncate a longer name silently, and the table would never be
	// found again under the name asked for.
	if err := d.CheckIdent("version_table", repo.VersionTable()); err != nil {
		return nil, &repositoryError{file: "migrate.cfg", err: err}
	}
	return &Migrator{db: db, dialect: d, driver: cfg.driver, repo: repo, cfg: cfg}, nil
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
	s, err := m.open(ctx, false)
	if err != nil {
		return 0, m.busy(err)
	}
	defer s.close(ctx)
	st, err := s.controlledState(ctx)
	if err != nil {
		return 0, m.busy(err)
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
	s, err := m.open(ctx, true)
	if err != nil {
		return interrupted(ctx, m.busy(err))
	}
	defer s.close(ctx)
	return interrupted(ctx, m.busy(s.bookkeepingTx(ctx, func() error {
		st, err := s.readState(ctx)
		if err != nil {
			return err
		}
		if st.controlled {
			return &AlreadyControlledError{Version: st.version}
		}
		return s.stamp(ctx, st, version)
	})))
}

// Exclusive runs fn while holding the migration lock that upgrades take, so that no
// migration of the database, from this process or another, runs meanwhile: for a restore,
// or a backup that must not see a migration half way. fn must not upgrade the database
// through a Migrator of this process, which would wait for the lock fn's caller holds. On
// SQLite, which has no migration lock apart from the file's own, fn runs without one.
func (m *Migrator) Exclusive(ctx context.Context, fn func(context.Context) error) error {
	if m.dialect.Lock() == nil {
		return fn(ctx)
	}
	s, err := m.open(ctx, true)
	if err != nil {
		return err
	}
	err = fn(ctx)
	if cerr := s.close(ctx); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// checkVersion validates an explicit version number against the repository.
func (m *Migrator) checkVersion(v int) error {
	switch {
	case v < 0:
		return &InvalidVersionError{Version: v}
	case m.dialect.MaxVersion() > 0 && v > m.dialect.MaxVersion():
		return m.tooLarge(v)
	case v == 0 || m.repo.Has(v):
		return nil
	default:
		return &VersionNotFoundError{Version: v, Target: v, Latest: m.repo.Latest()}
	}
}

// stamp creates the version table if st says it is missing and inserts the repository's row.
func (s *session) stamp(ctx context.Context, st state, version int) error {
	return s.stampOn(ctx, s.conn, st, version)
}

// stampOn is stamp in the transaction q.
func (s *session) stampOn(ctx context.Context, q versiontable.Querier, st state, version int) error {
	if !st.hasVersionTable {
		if err := s.table.Create(ctx, q); err != nil {
			return err
		}
	}
	return s.table.Stamp(ctx, q, s.m.cfg.repoPath, version)
}

// tooLarge reports a version the version table cannot hold on this dialect.
func (m *Migrator) tooLarge(v int) error {
	return fmt.Errorf("%w: version %d does not fit the version table's INTEGER column on %s (at most %d); timestamp-numbered repositories need SQLite",
		ErrInvalidVersion, v, m.dialect.Name(), m.dialect.MaxVersion())
}

// busy turns a database's "gave up waiting for another writer" error into the same
// [*LockTimeoutError] the server dialects' lock gives.
func (m *Migrator) busy(err error) error {
	if err != nil && m.dialect.BusyCode() != "" && m.driver.ErrorCode(err) == m.dialect.BusyCode() {
		return &LockTimeoutError{Timeout: m.cfg.lockTimeout, Err: err}
	}
	return err
}
