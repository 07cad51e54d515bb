package lock

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
)

// ErrLost is wrapped by the error [Lease.Check] returns once the lease may be someone else's.
var ErrLost = errors.New("the migration lock's lease was lost")

// Lease is a migration lock held as a row of the lock table, for databases where a session
// lock does not keep other sessions out: a Galera cluster (GET_LOCK is local to one node), a
// pooler in transaction mode (a session lock stays on one server connection while the
// client's statements move between them). It is renewed by a heartbeat on a connection of
// its own, since the run's connection is busy running DDL, and it is safe for concurrent use.
type Lease struct {
	db     *sql.DB
	sql    dialect.LeaseSQL
	id     string
	token  string
	length time.Duration
	// conflict reports a write that the database rolled back for conflicting with another
	// one (a Galera certification failure): it changed nothing and is tried again.
	conflict func(error) bool

	mu         sync.Mutex
	validUntil time.Time // by this process's clock, no later than the row's expiry
	lost       error
	lastErr    error // the last renewal's failure, for the lost-lease message

	stop context.CancelFunc
	done chan struct{}
}

// LeaseConfig says which lease to take and how.
type LeaseConfig struct {
	Table        string        // the lock table, quoted and qualified
	RepositoryID string        // the row's key
	Length       time.Duration // how long a lease lasts without renewal
	Timeout      time.Duration // how long to wait for another holder
	// Conflict reports errors that mean "rolled back for conflicting with another
	// writer, try again" (nil: none do).
	Conflict func(error) bool
}

// AcquireLease takes the repository's lease in the lock table on db, creating the table if
// needed, and waits up to cfg.Timeout for a holder's lease to be released or to expire. A
// lease is taken with one statement that the database (every node of a cluster) lets only
// one writer win: an insert of the row, or an update of an expired row. Its expiry is
// computed by the database's clock. A lease held elsewhere for the whole timeout gives a
// [*TimeoutError] naming its holder. The lease is renewed every quarter of its length until
// [Lease.Release].
func AcquireLease(ctx context.Context, db *sql.DB, d dialect.Dialect, cfg LeaseConfig) (*Lease, error) {
	ls := d.Lease()
	if ls == nil {
		return nil, fmt.Errorf("%s has no lease lock", d)
	}
	token := make([]byte, 16)
	if _, err := rand.Read(token); err != nil {
		return nil, err
	}
	l := &Lease{db: db, sql: ls.For(cfg.Table), id: cfg.RepositoryID, token: hex.EncodeToString(token),
		length: cfg.Length, conflict: cfg.Conflict}
	if l.conflict == nil {
		l.conflict = func(error) bool { return false }
	}
	if err := l.createTable(ctx); err != nil {
		return nil, err
	}
	if err := poll(ctx, cfg.Timeout, l.try, l.holder); err != nil {
		return nil, err
	}
	hctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l.stop, l.done = stop, make(chan struct{})
	go l.heartbeat(hctx)
	return l, nil
}

// createTable creates the lock table unless it exists: a run on a cluster then pays for no
// DDL, which every node would have to apply. Two sessions creating it at once may make one
// fail (PostgreSQL's catalog); the table is then there all the same.
func (l *Lease) createTable(ctx context.Context) error {
	exists := func() bool {
		_, _, _, _, err := l.read(ctx)
		return err == nil || errors.Is(err, sql.ErrNoRows)
	}
	if exists() {
		return nil
	}
	if _, err := l.db.ExecContext(ctx, l.sql.Create); err != nil && !exists() {
		return fmt.Errorf("creating the lock table: %w", err)
	}
	return nil
}

// micros is the lease length as the statements take it.
func (l *Lease) micros() int64 { return l.length.Microseconds() }

// try makes one attempt: insert the row, else take it over if it expired.
func (l *Lease) try(ctx context.Context) (bool, error) {
	host, _ := os.Hostname()
	if len(host) > 255 {
		host = host[:255]
	}
	sent := time.Now()
	n, err := l.exec(ctx, l.sql.Insert, l.id, l.token, host, os.Getpid(), l.micros())
	if err == nil && n == 0 {
		n, err = l.exec(ctx, l.sql.TakeOver, l.token, host, os.Getpid(), l.micros(), l.id)
	}
	switch {
	case err != nil && l.conflict(err):
		return false, nil // another writer won this round
	case err != nil:
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, fmt.Errorf("taking the migration lock's lease: %w", err)
	case n == 1:
		l.validUntil = sent.Add(l.length)
		return true, nil
	}
	return false, nil
}

// exec runs a statement on the pool and returns the rows it changed.
func (l *Lease) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := l.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// read returns the lease's row.
func (l *Lease) read(ctx context.Context) (host string, pid int64, acquired string, left time.Duration, err error) {
	var micros int64
	err = l.db.QueryRowContext(ctx, l.sql.Holder, l.id).Scan(&host, &pid, &acquired, &micros)
	return host, pid, acquired, time.Duration(micros) * time.Microsecond, err
}

// holder describes who holds the lease, or "" if that cannot be read.
func (l *Lease) holder(ctx context.Context) string {
	host, pid, acquired, left, err := l.read(context.WithoutCancel(ctx))
	if err != nil {
		return ""
	}
	desc := fmt.Sprintf("pid %d on %s, since %s UTC", pid, host, acquired)
	if left < 0 {
		return desc + fmt.Sprintf(" (lease expired %v ago)", (-left).Round(time.Millisecond))
	}
	return desc + fmt.Sprintf(" (lease expires in %v unless renewed)", left.Round(time.Millisecond))
}

// LeaseHeld reports whether the lease of the repository id in the lock table is held now: its
// row exists and has not expired by the database's clock. A missing table (no lease was ever
// taken) or any other failure to read it says false. It writes nothing.
func LeaseHeld(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, ls dialect.LeaseSQL, id string) bool {
	var host, acquired string
	var pid, micros int64
	err := q.QueryRowContext(ctx, ls.Holder, id).Scan(&host, &pid, &acquired, &micros)
	return err == nil && micros > 0
}

// heartbeat renews the lease every quarter of its length, and sooner after a failure, until
// ctx is cancelled or the lease is found taken over. A renewal that updates the row proves
// that nobody held the lease since the last one: the holder token is this lease's alone.
func (l *Lease) heartbeat(ctx context.Context) {
	defer close(l.done)
	interval := l.length / 4
	next := interval
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(next):
		}
		sent := time.Now()
		rctx, cancel := context.WithTimeout(ctx, interval)
		n, err := l.exec(rctx, l.sql.Renew, l.micros(), l.id, l.token)
		cancel()
		l.mu.Lock()
		switch {
		case ctx.Err() != nil:
		case err != nil:
			l.lastErr = err
			next = interval / 4
		case n == 0:
			l.lost = fmt.Errorf("%w: another process took it over after it expired", ErrLost)
		default:
			l.validUntil = sent.Add(l.length)
			l.lastErr, next = nil, interval
		}
		lost := l.lost != nil
		l.mu.Unlock()
		if lost {
			return
		}
	}
}

// Check returns nil while the lease is certainly held: renewed less than its length ago by
// this process's clock, which runs no faster than the database's. Once that is past, it
// renews the lease itself: the heartbeat may have been kept from writing (a cluster applying
// a long DDL statement in total order holds every write back until it is done), and a renewal
// that updates the row proves that nobody took the lease over meanwhile. When that fails too,
// from then on, it returns an error wrapping [ErrLost]: another process may hold the lease.
// Call it before each step that must run under the lock.
func (l *Lease) Check() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost == nil && time.Now().After(l.validUntil) {
		sent := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), l.length)
		n, err := l.exec(ctx, l.sql.Renew, l.micros(), l.id, l.token)
		cancel()
		switch {
		case err == nil && n == 1:
			l.validUntil, l.lastErr = sent.Add(l.length), nil
			return nil
		case err == nil:
			l.lost = fmt.Errorf("%w: another process took it over after it expired", ErrLost)
			return l.lost
		case l.lastErr == nil:
			l.lastErr = err
		}
		l.lost = fmt.Errorf("%w: it could not be renewed within its %v", ErrLost, l.length)
		if l.lastErr != nil {
			l.lost = fmt.Errorf("%w (%v)", l.lost, l.lastErr)
		}
	}
	return l.lost
}

// Release stops the heartbeat and removes the lease's row, if it is still this lease's. It
// is safe to call on a nil *Lease. Call it with a context that is not cancelled. A lease that
// cannot be removed expires by itself.
func (l *Lease) Release(ctx context.Context) error {
	if l == nil {
		return nil
	}
	l.stop()
	<-l.done
	ctx, cancel := context.WithTimeout(ctx, max(l.length, 5*time.Second))
	defer cancel()
	if _, err := l.db.ExecContext(ctx, l.sql.Release, l.id, l.token); err != nil {
		return fmt.Errorf("releasing the migration lock's lease (it expires by itself within %v): %w", l.length, err)
	}
	return nil
}
