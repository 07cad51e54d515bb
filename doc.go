// Package ratchet manages a relational database's schema as a numbered, forward-only series
// of versions kept in a sqlalchemy-migrate repository, and reads and writes sqlalchemy-migrate's
// migrate_version table, so that databases managed by the legacy tool can be taken over as
// they are.
//
// A [Migrator] applies a [repository.Repository] to one database:
//
//	repo, err := repository.Load(migrationsFS) // or repository.Open(dir)
//	repo.Register(repository.GoMigration{Version: 7, Name: "backfill", Up: backfill})
//	m, err := ratchet.New(db, dialect.Postgres, repo, ratchet.WithDriver(pgxdriver.New()))
//	v, err := m.Version(ctx)
//	res, err := m.Upgrade(ctx, ratchet.Latest)
//
// The caller opens the *sql.DB with the driver of its choice (modernc.org/sqlite, pgx's
// stdlib adapter, go-sql-driver/mysql) and passes the matching [dialect.Dialect] and, from
// the packages under drivers/, the [Driver] that tells the engine the database's error codes,
// lost sessions and how to send several statements in one round trip; the engine itself
// imports no driver.
//
// # Guarantees
//
// Every check that does not need a script to run — a downgrade, a version missing from the
// repository, a version without a runnable script, a script that cannot be split — is made
// before anything is written ([Migrator.Plan]). Each version then runs in one transaction
// together with its version update and its history row, so a crash leaves the database at
// one version or the next. Where DDL commits implicitly (MySQL, MariaDB) or a script opts out
// with `-- ratchet:no-transaction`, a version runs statement by statement and its journal
// says, after any crash, exactly which statements are applied and which one was in flight; a
// version that stopped part way is refused until the caller chooses [Resume] (with [InFlight]
// for a statement in flight) or [Retry]. [Atomic] applies all pending versions in one
// transaction instead. Within a run each statement is sent at most once and a Go migration's
// Up is called at most once per version: failures are located by the execution itself.
//
// # Rolling upgrades
//
// A version with expand, migrate or contract parts (`NNN_desc_<dbms>_expand.sql`, …, or Go
// registrations with a Phase, and [repository.DataMigration]) is rolling: [Migrator.Expand],
// [Migrator.Migrate] and [Migrator.Contract] run its phases while the old and the new
// release of a service share the database, each part in its own transaction (journalled on
// MySQL) with the record of it, a data migration in batches that commit with their
// checkpoint. The version table keeps saying the last version fully applied until contract;
// [Migrator.State] says how far the open window went, and [RequireAtLeast] and
// [RequireAtMost] let a release refuse a schema it cannot run on. [Migrator.Upgrade] applies
// rolling versions offline, every phase in turn, without their online blocks.
//
// # Concurrency
//
// A Migrator is safe for concurrent use, and so is running several processes against one
// database: an upgrade holds the database's migration lock (a PostgreSQL advisory lock, a
// MySQL GET_LOCK; on SQLite the file itself, locked by a BEGIN IMMEDIATE transaction and,
// unless the database is in WAL mode, kept with locking_mode=EXCLUSIVE until the run ends) on
// the one connection that does the work, waits up to [WithLockTimeout] for it (on SQLite the
// Migrator sets that connection's busy timeout itself, whatever the DSN says), and checks the version it starts from inside each
// version's transaction, so every version is applied exactly once. On SQLite the run's
// connection also uses a PERSIST rollback journal where it had DELETE or TRUNCATE; both
// settings are restored when the run ends, and synchronous is left as it is.
//
// For SQLite, modernc.org/sqlite syncs with fsync(2) unless the program calls its
// Fdatasync(true), as the ratchet command does: fdatasync is what SQLite's own Linux builds
// use, and a commit is as durable with it. For MySQL and MariaDB, a go-sql-driver/mysql DSN
// with multiStatements=true and interpolateParams=true lets a Migrator send several
// statements per round trip, as the ratchet command does; without them it sends one at a
// time.
//
// # Errors
//
// Conditions a caller branches on are sentinels, matched with [errors.Is]:
// [ErrNotControlled], [ErrAlreadyControlled], [ErrDowngrade], [ErrVersionNotFound],
// [ErrInvalidVersion], [ErrNoScript], [ErrStopped], [ErrNotAtomic], [ErrLockTimeout],
// [ErrRefusedStatement], [ErrWindow], [ErrOffline], [ErrDataPending]. Failures carry their details in typed errors, matched with
// [errors.As]: [*ScriptError] (file, line, statement, the database's code),
// [*NotControlledError], [*DowngradeError], [*StoppedVersionError], [*LockTimeoutError],
// [*SanityError]. Errors say what happened, not which command to type next: that is the
// caller's to word. The library never prints; progress is reported through [WithEvents] and
// [WithLogger].
package ratchet
