package ratchet

import (
	"context"
	"database/sql"
	"time"
)

// UpgradeOption changes how one [Migrator.Upgrade] (or [Migrator.Plan]) runs.
type UpgradeOption interface{ applyUpgrade(*upgradeConfig) }

type upgradeConfig struct {
	recovery        recovery
	inFlight        inFlight
	skipSanityCheck bool
	atomic          bool
	beforeApply     func(context.Context, *Plan, *sql.Conn) error
	data            dataLimits
	ddlWait         *time.Duration
}

// recovery says what to do with a version that failed part way (see [Resume] and [Retry]).
type recovery int

const (
	refuseRecovery recovery = iota
	resumeRecovery
	retryRecovery
)

// inFlight is the operator's word on a statement that was running when a process stopped
// and that commits by itself (see [InFlight]).
type inFlight int

const (
	inFlightUnknown inFlight = iota
	inFlightCompleted
	inFlightNotCompleted
)

type upgradeOptionFunc func(*upgradeConfig)

func (f upgradeOptionFunc) applyUpgrade(c *upgradeConfig) { f(c) }

// Resume continues a version that failed part way, on a database where it could not run in
// one transaction (MySQL/MariaDB DDL, `-- ratchet:no-transaction` scripts), at the statement
// after the last one applied — once the applied statements are checked to be unchanged in the
// script. Use it after fixing the failing statement.
func Resume() UpgradeOption {
	return upgradeOptionFunc(func(c *upgradeConfig) { c.recovery = resumeRecovery })
}

// InFlight tells [Resume] whether the statement that was running when a version was
// interrupted took effect, for a statement that commits by itself (DDL on MySQL/MariaDB,
// any statement of a no-transaction script), which ratchet cannot know: completed
// continues after it, otherwise it runs again. Without it, resuming such a version is
// refused with a [*StoppedVersionError] whose InFlight names the statement.
func InFlight(completed bool) UpgradeOption {
	return upgradeOptionFunc(func(c *upgradeConfig) {
		c.inFlight = inFlightNotCompleted
		if completed {
			c.inFlight = inFlightCompleted
		}
	})
}

// Retry runs a version that failed part way again from its first statement. Use it when the
// applied statements were undone by hand or are safe to repeat.
func Retry() UpgradeOption {
	return upgradeOptionFunc(func(c *upgradeConfig) { c.recovery = retryRecovery })
}

// SkipSanityCheck turns off the MySQL/MariaDB check, made before and after upgrading, that
// every table has a utf8 collation (the check of the legacy tool).
func SkipSanityCheck() UpgradeOption {
	return upgradeOptionFunc(func(c *upgradeConfig) { c.skipSanityCheck = true })
}

func upgradeSettings(opts []UpgradeOption) upgradeConfig {
	var c upgradeConfig
	for _, o := range opts {
		o.applyUpgrade(&c)
	}
	return c
}

// Atomic applies all pending versions in one transaction: all of them or none. It needs a
// dialect with transactional DDL (SQLite, PostgreSQL) and no `-- ratchet:no-transaction`
// script in the plan; [Migrator.Upgrade] refuses it otherwise with [ErrNotAtomic]. It is the
// fast way to bring a fresh test database up to date.
func Atomic() UpgradeOption {
	return upgradeOptionFunc(func(c *upgradeConfig) { c.atomic = true })
}

// BeforeApply sets a function that [Migrator.Upgrade] calls once it holds the migration lock
// and knows that the plan has versions to apply, before it writes anything: the place for a
// backup that no concurrent migration can race or duplicate. conn is the run's own
// connection, which on SQLite holds the file: a backup of it must go through conn (VACUUM
// INTO). fn must leave conn as it found it, with no transaction open. An error stops the
// upgrade with nothing written.
func BeforeApply(fn func(ctx context.Context, plan *Plan, conn *sql.Conn) error) UpgradeOption {
	return upgradeOptionFunc(func(c *upgradeConfig) { c.beforeApply = fn })
}

// DDLLockTimeout bounds how long a statement of an expand or contract part waits for a table
// lock that the running service holds (default 5s; 0 waits as long as the database lets it):
// a schema change queued behind a long transaction makes every query on its table queue
// behind it. A statement that gave up waiting did not run; it is tried again, up to five
// times with a growing pause, before the part fails.
func DDLLockTimeout(d time.Duration) UpgradeOption {
	return upgradeOptionFunc(func(c *upgradeConfig) { c.ddlWait = &d })
}
