package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/internal/config"
	"github.com/ratchetdb/ratchet/internal/dburl"
	"github.com/ratchetdb/ratchet/repository"
)

// Environment variables read for the global options.
const (
	envDatabase   = "RATCHET_DATABASE"
	envRepository = "RATCHET_REPOSITORY"
)

const (
	defaultRepository  = "./migrations"
	defaultLockTimeout = 60 * time.Second
)

// globals holds the global options and resolves them: flag > environment > config file > default.
type globals struct {
	app            *App
	stdout, stderr io.Writer

	database    string
	repository  string
	configFiles []string
	output      string
	lockTimeout time.Duration
	lock        string
	lease       time.Duration
	flags       *pflag.FlagSet
}

func (g *globals) register(fs *pflag.FlagSet) {
	g.flags = fs
	fs.StringVar(&g.database, "database", "", "database URL (env "+envDatabase+"; default "+g.app.defaultDB+")")
	if g.app.repo == nil {
		fs.StringVar(&g.repository, "repository", "", "repository directory (env "+envRepository+"; default "+defaultRepository+")")
	}
	fs.StringArrayVar(&g.configFiles, "config-file", nil, "INI config file ([database] connection, [ratchet] repository, backup_dir, lock_timeout, lock, lease_duration); repeatable, later files win")
	fs.StringVar(&g.output, "output", "text", "output format: text or json")
	fs.DurationVar(&g.lockTimeout, "lock-timeout", defaultLockTimeout, "how long to wait for another process migrating the same database")
	fs.StringVar(&g.lock, "lock", "auto", "migration lock on a server: advisory (session lock), lease (a row in ratchet_lock: Galera clusters, PgBouncer in transaction mode) or auto (lease on Galera, else advisory)")
	fs.DurationVar(&g.lease, "lease-duration", ratchet.DefaultLeaseDuration, "length of the lease lock: a run that dies keeps others waiting this long")
}

// settings are the resolved global options.
type settings struct {
	database    string
	repository  string
	backupDir   string // [ratchet] backup_dir; the commands' own flags take precedence
	lockTimeout time.Duration
	lock        ratchet.LockMethod
	lease       time.Duration
	json        bool
	// databaseSource is "file:line" when the database URL comes from a config file.
	databaseSource string
	// noDatabase is the error of commands that open a database when config files were
	// given but neither they, a flag nor the environment name one.
	noDatabase error
}

// resolve applies the precedence flag > environment > config file > default.
func (g *globals) resolve() (*settings, error) {
	if g.output != "text" && g.output != "json" {
		return nil, usageErrorf("--output %q: must be text or json", g.output)
	}
	s := &settings{json: g.output == "json", lockTimeout: g.lockTimeout, lease: g.lease}
	for _, name := range []string{"database", "repository"} {
		// An empty value given on purpose (say, an unset shell variable) must not mean the
		// default: that would be another database or repository than the one meant.
		if f := g.flags.Lookup(name); f != nil && f.Changed && strings.TrimSpace(f.Value.String()) == "" {
			return nil, usageErrorf("--%s is empty", name)
		}
	}
	file := &config.Settings{}
	if len(g.configFiles) > 0 {
		var err error
		if file, err = config.Load(g.configFiles...); err != nil {
			return nil, usageError(err)
		}
	}
	s.database = pick(g.flagValue("database", g.database), os.Getenv(envDatabase), file.Connection)
	if s.database != "" && s.database == file.Connection && g.flagValue("database", g.database) == "" && os.Getenv(envDatabase) == "" {
		s.databaseSource = file.Sources["connection"]
	}
	if s.database == "" && len(g.configFiles) > 0 {
		// Falling back to the default database would create a new one beside the real one.
		s.noDatabase = usageErrorf("%s: no database: [database] connection is missing or empty (set it, or give --database or %s)",
			strings.Join(g.configFiles, ", "), envDatabase)
	}
	s.database = pick(s.database, g.app.defaultDB)
	s.repository = pick(g.flagValue("repository", g.repository), os.Getenv(envRepository), file.Repository, defaultRepository)
	s.backupDir = file.BackupDir
	if !g.flags.Changed("lock-timeout") && file.LockTimeout > 0 {
		s.lockTimeout = file.LockTimeout
	}
	if s.lockTimeout <= 0 {
		return nil, usageErrorf("--lock-timeout %v: must be positive", s.lockTimeout)
	}
	if err := g.resolveLock(s, file); err != nil {
		return nil, err
	}
	return s, nil
}

// resolveLock sets the migration lock's method and lease length from the flags or the
// config files.
func (g *globals) resolveLock(s *settings, file *config.Settings) error {
	method, source := g.lock, "--lock"
	if !g.flags.Changed("lock") && file.Lock != "" {
		method, source = file.Lock, file.Sources["lock"]+": lock"
	}
	var err error
	if s.lock, err = ratchet.ParseLockMethod(method); err != nil {
		return usageErrorf("%s: %v", source, err)
	}
	source = "--lease-duration"
	if !g.flags.Changed("lease-duration") && file.LeaseDuration > 0 {
		s.lease, source = file.LeaseDuration, file.Sources["lease_duration"]+": lease_duration"
	}
	if s.lease < time.Second {
		return usageErrorf("%s %v: must be at least 1s", source, s.lease)
	}
	return nil
}

func (g *globals) flagValue(name, value string) string {
	if f := g.flags.Lookup(name); f != nil && f.Changed {
		return value
	}
	return ""
}

// pick returns the first non-empty value.
func pick(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// loadRepository returns the embedded repository or loads the one the settings name.
func (g *globals) loadRepository(s *settings) (*repository.Repository, error) {
	if g.app.repo != nil {
		return g.app.repo, nil
	}
	repo, err := repository.Open(s.repository)
	if err != nil {
		var re *repository.Error
		if errors.As(err, &re) && (re.Path == s.repository || re.Path == "migrate.cfg" || re.Path == "versions") {
			return nil, usageErrorf("%v (give the repository with --repository or %s)", err, envRepository)
		}
		return nil, usageError(err)
	}
	return repo, nil
}

// session is what a database command works with.
type session struct {
	*settings
	repo *repository.Repository
	db   *database
}

// openSession resolves the settings, loads the repository and opens the database. write
// says whether the command may change the database (and so create a missing SQLite file).
func (g *globals) openSession(ctx context.Context, write bool) (*session, error) {
	s, err := g.resolve()
	if err != nil {
		return nil, err
	}
	repo, err := g.loadRepository(s)
	if err != nil {
		return nil, err
	}
	if s.noDatabase != nil {
		return nil, s.noDatabase
	}
	if s.databaseSource != "" {
		if _, err := dburl.Parse(s.database); err != nil {
			return nil, usageErrorf("%s: [database] connection: %v", s.databaseSource, err)
		}
	}
	db, err := openDatabase(ctx, s.database, g.app.drivers, s.lockTimeout, write, g.app.name)
	if err != nil {
		return nil, err
	}
	db.notice = func(msg string) {
		if !s.json {
			fmt.Fprintln(g.stdout, msg)
		}
	}
	return &session{settings: s, repo: repo, db: db}, nil
}

func (s *session) Close() error { return s.db.Close() }

// migrator returns a Migrator on the session's database.
func (g *globals) migrator(s *session, opts ...ratchet.Option) (*ratchet.Migrator, error) {
	opts = append([]ratchet.Option{ratchet.WithAppliedBy(appliedBy(g.app)), ratchet.WithLockTimeout(s.lockTimeout), ratchet.WithDriver(s.db.driver),
		ratchet.WithLock(s.lock), ratchet.WithLeaseDuration(s.lease)}, opts...)
	if g.app.repo == nil {
		opts = append(opts, ratchet.WithRepositoryPath(s.repository))
	}
	return ratchet.New(s.db.DB, s.db.dialect, s.repo, opts...)
}

func appliedBy(a *App) string {
	who := "unknown"
	if u := os.Getenv("USER"); u != "" {
		who = u
	}
	if h, err := os.Hostname(); err == nil {
		who += "@" + h
	}
	return fmt.Sprintf("%s (%s %s)", who, a.name, a.version)
}
