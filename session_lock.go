package ratchet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ratchetdb/ratchet/internal/lock"
	"github.com/ratchetdb/ratchet/internal/versiontable"
)

// LockMethod is how a run keeps other runs of the same repository out of a server database
// ([WithLock]).
type LockMethod int

const (
	// LockAuto is the default: the lease on a MariaDB Galera cluster (where wsrep_on is ON),
	// the advisory lock elsewhere.
	LockAuto LockMethod = iota
	// LockAdvisory is the server's session lock (PostgreSQL advisory lock, GET_LOCK): held
	// by the run's own session, gone when that session ends. It keeps out only sessions of
	// the same server, and only where the client's session is the server's (no pooler in
	// transaction mode).
	LockAdvisory
	// LockLease is a row of the ratchet_lock table that the run holds for a lease length
	// and renews while it works: it works across a cluster's nodes and behind poolers. A
	// holder that dies keeps others out until its lease expires.
	LockLease
)

// DefaultLeaseDuration is the lease length of [LockLease] unless [WithLeaseDuration] says
// otherwise.
const DefaultLeaseDuration = 30 * time.Second

// ParseLockMethod returns the method named "auto", "advisory" or "lease".
func ParseLockMethod(name string) (LockMethod, error) {
	for m, n := range lockMethodNames {
		if n == name {
			return LockMethod(m), nil
		}
	}
	return 0, fmt.Errorf("unknown lock method %q: must be advisory, lease or auto", name)
}

var lockMethodNames = []string{"auto", "advisory", "lease"}

// String returns the method's name.
func (m LockMethod) String() string {
	if m >= 0 && int(m) < len(lockMethodNames) {
		return lockMethodNames[m]
	}
	return fmt.Sprintf("LockMethod(%d)", int(m))
}

// WithLock sets how a run keeps other runs out of a server database (default [LockAuto]). On
// SQLite, whose file lock serialises writers, it changes nothing.
func WithLock(m LockMethod) Option {
	return optionFunc(func(c *config) error {
		if m < LockAuto || m > LockLease {
			return fmt.Errorf("ratchet: WithLock: invalid method %v", m)
		}
		c.lockMethod = m
		return nil
	})
}

// WithLeaseDuration sets the length of the lease of [LockLease] (default
// [DefaultLeaseDuration], at least a second). A holder renews it every quarter of its length
// and stops before its next version once it could not renew it in time; a holder that dies
// keeps others waiting up to this long. Make it longer than the database may take to notice
// a lost client, and far longer than the clocks of a cluster's nodes differ.
func WithLeaseDuration(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d < time.Second {
			return fmt.Errorf("ratchet: WithLeaseDuration: %v is shorter than a second", d)
		}
		c.leaseDuration = d
		return nil
	})
}

// joinCluster finds out whether the session's server is a node of a cluster (Galera) and, if
// so, makes the session's statements wait until the node has applied what other nodes
// committed before them: a run must see the last holder's work, and a reader the last run's,
// whichever node they wrote through.
func (s *session) joinCluster(ctx context.Context) (err error) {
	if s.cluster, err = s.inCluster(ctx); err != nil || !s.cluster {
		return err
	}
	return s.causalReads(ctx)
}

// lockMigration takes the migration lock for the session's run: the lease where the
// Migrator's method (or the cluster the server belongs to) asks for it, else the dialect's
// session lock on the session's own connection. A cluster node must replicate DDL to every
// node.
func (s *session) lockMigration(ctx context.Context) error {
	m := s.m
	if s.cluster {
		osu, err := s.variable(ctx, m.dialect.SchemaUpgradeMethod())
		if err != nil {
			return fmt.Errorf("reading how the cluster replicates DDL: %w", err)
		}
		if err := checkSchemaUpgrades(osu); err != nil {
			return err
		}
	}
	var err error
	if s.useLease(s.cluster) {
		if n := m.db.Stats().MaxOpenConnections; n > 0 && n < 2 {
			return errors.New("the lease lock renews itself on a connection of its own, but the *sql.DB allows one connection (SetMaxOpenConns)")
		}
		s.lease, err = lock.AcquireLease(ctx, m.db, m.dialect, lock.LeaseConfig{
			Table: m.dialect.Qualified(s.table.Schema(), versiontable.LockTable), RepositoryID: m.repo.ID(),
			Length: m.cfg.leaseDuration, Timeout: m.cfg.lockTimeout, Conflict: m.conflict,
		})
	} else {
		s.lock, err = lock.Acquire(ctx, s.conn, m.dialect, m.repo.ID(), m.cfg.lockTimeout)
	}
	var timeout *lock.TimeoutError
	if errors.As(err, &timeout) {
		return &LockTimeoutError{Timeout: timeout.Timeout, Holder: timeout.Holder}
	}
	return err
}

// lockFirst takes the migration lock of a run whose lease was deferred (see openSession),
// given what the run worked out without it: a refusal (err) made while no other run holds the
// lock stands as it is, and leaves nothing behind, not even the lease's table; otherwise the
// lock is taken and taken is true: the caller works it out again, since another run may have
// changed the database meanwhile.
func (s *session) lockFirst(ctx context.Context, err error) (taken bool, _ error) {
	if !s.lockPending {
		return false, err
	}
	if err != nil && !s.migrationRunning(ctx) {
		return false, err
	}
	if err := s.lockMigration(ctx); err != nil {
		return false, err
	}
	s.lockPending = false
	return true, nil
}

// planUnderLock runs plan, which works out what the run will do, and, when the run's lease
// was deferred and lockFirst takes it, runs plan again under it.
func (s *session) planUnderLock(ctx context.Context, plan func() error) error {
	taken, err := s.lockFirst(ctx, plan())
	if err != nil || !taken {
		return err
	}
	return plan()
}

// migrationRunning reports whether another run holds the migration lock now: a lease in the
// lock table that has not expired (whichever lock this session would take: a run may have
// been told to take the lease), or the session lock, tried once without waiting and released
// at once. A journal row then belongs to a run that is still going, not to one that stopped.
// Where the lock is the database's own file, it says false.
func (s *session) migrationRunning(ctx context.Context) bool {
	if ls := s.m.dialect.Lease(); ls != nil {
		table := s.m.dialect.Qualified(s.table.Schema(), versiontable.LockTable)
		if lock.LeaseHeld(ctx, s.conn, ls.For(table), s.m.repo.ID()) {
			return true
		}
	}
	if s.lockMethod() != LockAdvisory {
		return false
	}
	l, err := lock.Acquire(ctx, s.conn, s.m.dialect, s.m.repo.ID(), 0)
	var timeout *lock.TimeoutError
	if errors.As(err, &timeout) {
		return true
	}
	if err == nil {
		if rerr := l.Release(context.WithoutCancel(ctx)); rerr != nil {
			s.broken = true // the session may still hold it: it must not reach the pool
		}
	}
	return false
}

// causalReads sets the session up for causal reads on a cluster node (see
// [dialect.Dialect.CausalReads]); the session's close restores the setting.
func (s *session) causalReads(ctx context.Context) error {
	c := s.m.dialect.CausalReads()
	if c == nil {
		return nil
	}
	var old int64
	if err := s.conn.QueryRowContext(ctx, c.Read).Scan(&old); err != nil {
		return fmt.Errorf("reading the causality checks: %w", err)
	}
	if _, err := s.conn.ExecContext(ctx, fmt.Sprintf(c.Set, c.Value)); err != nil {
		return fmt.Errorf("setting the causality checks: %w", err)
	}
	s.undo = append(s.undo, fmt.Sprintf(c.Set, old))
	return nil
}

// useLease says whether the run takes the lease rather than a session lock, on a server
// that is a cluster node or not.
func (s *session) useLease(cluster bool) bool {
	switch {
	case s.m.dialect.Lease() == nil || s.m.cfg.lockMethod == LockAdvisory:
		return false
	case s.m.cfg.lockMethod == LockLease:
		return true
	}
	return cluster
}

// checkSchemaUpgrades refuses to write on a cluster node that applies DDL to itself only
// (Galera's RSU, method osu): the bookkeeping tables would exist on this node only while
// their rows replicate to every node, and the versions' DDL would change this node only
// while their record reaches every node.
func checkSchemaUpgrades(osu string) error {
	if strings.EqualFold(osu, "TOI") {
		return nil
	}
	return fmt.Errorf("this cluster node replicates DDL by %s (wsrep_OSU_method), to itself only: ratchet's tables and the versions' DDL would change this node alone while their rows reach every node; migrate with wsrep_OSU_method=TOI", osu)
}

// inCluster reports whether the session's server is a node of a cluster that replicates
// writes synchronously (Galera), where a session lock holds on one node only.
func (s *session) inCluster(ctx context.Context) (bool, error) {
	on, err := s.variable(ctx, s.m.dialect.ClusterProbe())
	if err != nil {
		return false, fmt.Errorf("asking whether the server is part of a cluster: %w", err)
	}
	return strings.EqualFold(on, "ON"), nil
}

// lockMethod returns the lock an upgrade takes on the session's database: [LockAdvisory] or
// [LockLease] on a server, [LockAuto] where the database serialises writers itself.
func (s *session) lockMethod() LockMethod {
	switch {
	case s.m.dialect.Lock() == nil:
		return LockAuto
	case s.useLease(s.cluster):
		return LockLease
	}
	return LockAdvisory
}

// variable runs a query that returns one row (name, value), such as MySQL's SHOW VARIABLES
// LIKE, and returns the value: "" for no query or no row.
func (s *session) variable(ctx context.Context, query string) (string, error) {
	if query == "" {
		return "", nil
	}
	rows, err := s.conn.QueryContext(ctx, query)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var name, value string
	if rows.Next() {
		if err := rows.Scan(&name, &value); err != nil {
			return "", err
		}
	}
	return value, rows.Err()
}

// checkLock returns an error wrapping [ErrLockLost] when the run can no longer be sure that
// it holds the migration lock: a lease that could not be renewed in time. Call it before each
// version (or part of one) starts. A session lock cannot be lost while its session lasts.
func (s *session) checkLock() error {
	if s.lease == nil {
		return nil
	}
	return s.lease.Check()
}

// releaseLock releases the migration lock. A lease that cannot be removed expires by itself,
// and the connection has nothing to discard: that is a warning, not a failure of the run.
func (s *session) releaseLock(ctx context.Context) error {
	if err := s.lease.Release(ctx); err != nil {
		s.m.cfg.logger.Warn(err.Error())
		s.m.emit(Event{Kind: Warning, Message: err.Error()})
	}
	return s.lock.Release(ctx)
}

// conflict reports whether err is a transaction the database rolled back for conflicting
// with another (a deadlock, a cluster's certification failure), which can run again.
func (m *Migrator) conflict(err error) bool {
	cd, ok := m.driver.(ConflictDriver)
	return ok && err != nil && cd.Conflict(err)
}

// conflictRetries bounds how often bookkeeping rolled back by a conflict runs again.
const conflictRetries = 5

// bookkeepingTx runs fn, which writes bookkeeping only, in a transaction (see inTx), again
// when a conflict rolled it back (see retryConflicts).
func (s *session) bookkeepingTx(ctx context.Context, fn func() error) error {
	return s.retryConflicts(ctx, func() error { return s.inTx(ctx, fn) })
}

// retryConflicts runs fn, a transaction of bookkeeping only, again when the database rolled
// it back for conflicting with another writer: nothing of it took effect, so nothing runs
// twice, and such a conflict is not the failure of a version.
func (s *session) retryConflicts(ctx context.Context, fn func() error) error {
	for i := 0; ; i++ {
		err := fn()
		if i == conflictRetries || !s.m.conflict(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(i+1) * 10 * time.Millisecond)
	}
}

// schemaUpgradeMethod returns how the session's cluster node replicates DDL (Galera's
// wsrep_OSU_method), or "" on a single server.
func (s *session) schemaUpgradeMethod(ctx context.Context) (string, error) {
	if !s.cluster {
		return "", nil
	}
	method, err := s.variable(ctx, s.m.dialect.SchemaUpgradeMethod())
	if err != nil {
		return "", fmt.Errorf("reading how the cluster replicates DDL: %w", err)
	}
	return method, nil
}
