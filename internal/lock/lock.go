package lock

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
)

// ErrTimeout is wrapped by the error [Acquire] returns when another session held the lock
// for the whole timeout.
var ErrTimeout = errors.New("timed out waiting for the migration lock")

// ErrSessionMoved is wrapped by the error [Acquire] returns when the connection's statements
// reach another server session than the one that took the lock: a connection pooler in
// transaction mode is in front of the server, and a session lock keeps nobody out there.
var ErrSessionMoved = errors.New("the migration lock's server session is not the connection's")

// TimeoutError reports a lock held elsewhere for longer than the timeout.
type TimeoutError struct {
	Timeout time.Duration
	Holder  string // who holds the lock, when the database can tell
}

func (e *TimeoutError) Error() string {
	msg := fmt.Sprintf("another process is migrating this database: lock not acquired within %v", e.Timeout)
	if e.Holder != "" {
		msg += "; held by " + e.Holder
	}
	return msg
}

// Unwrap returns [ErrTimeout].
func (e *TimeoutError) Unwrap() error { return ErrTimeout }

// Lock is a held migration lock. It lives on the caller's connection (session), which must
// stay open while the lock is needed: closing the connection releases it.
type Lock struct {
	conn    *sql.Conn
	sql     *dialect.LockSQL
	key     any
	session int64 // the server session that took the lock
}

// pollInterval bounds how often a waiting process asks again. Polling a non-blocking try-lock
// gives every backend the same semantics: a bounded wait that ctx can cancel.
const (
	minPoll = 10 * time.Millisecond
	maxPoll = 250 * time.Millisecond
)

// Acquire takes the migration lock for the repository id on conn, waiting up to timeout.
// Take it on the connection that then does the migration: the server releases a session
// lock only when the session ends, which is after the session's last statement, so a
// process that dies mid-version keeps others out until its work has stopped. It returns a
// nil *Lock and no error when the dialect needs no lock (SQLite serialises writers itself).
// A lock held elsewhere for the whole timeout gives a [*TimeoutError] naming the holder
// when the database can tell; cancelling ctx stops the wait with ctx's error.
func Acquire(ctx context.Context, conn *sql.Conn, d dialect.Dialect, repositoryID string, timeout time.Duration) (*Lock, error) {
	ls := d.Lock()
	if ls == nil {
		return nil, nil
	}
	l := &Lock{conn: conn, sql: ls, key: Key(ls, repositoryID)}
	if err := poll(ctx, timeout, l.try, l.holder); err != nil {
		return nil, err
	}
	if err := l.verify(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// verify checks that the connection's next statement runs in the server session that took
// the lock. Behind a pooler in transaction mode it may or may not (the pooler may hand the
// same server connection back), so this finds such a pooler often, not always.
func (l *Lock) verify(ctx context.Context) error {
	var session int64
	if err := l.conn.QueryRowContext(ctx, l.sql.Session).Scan(&session); err != nil {
		return fmt.Errorf("checking the migration lock's session: %w", err)
	}
	if session != l.session {
		return fmt.Errorf("%w: the lock was taken in server session %d, the next statement ran in session %d; a connection pooler in transaction mode is in front of the server, where only the lease lock keeps other runs out",
			ErrSessionMoved, l.session, session)
	}
	return nil
}

// poll calls try until it takes the lock, waiting up to timeout with a growing pause
// between attempts. A lock held elsewhere for the whole timeout gives a [*TimeoutError]
// naming what holder says.
func poll(ctx context.Context, timeout time.Duration, try func(context.Context) (bool, error), holder func(context.Context) string) error {
	deadline := time.Now().Add(timeout)
	wait := minPoll
	for {
		ok, err := try(ctx)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return &TimeoutError{Timeout: timeout, Holder: holder(ctx)}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(wait, time.Until(deadline)+time.Millisecond)):
		}
		wait = min(2*wait, maxPoll)
	}
}

// try makes one non-blocking attempt.
func (l *Lock) try(ctx context.Context) (bool, error) {
	var got sql.NullBool
	if err := l.conn.QueryRowContext(ctx, l.sql.TryLock, l.key).Scan(&got, &l.session); err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, fmt.Errorf("taking the migration lock: %w", err)
	}
	return got.Valid && got.Bool, nil
}

// holder describes the session holding the lock, or "" if the database cannot tell.
func (l *Lock) holder(ctx context.Context) string {
	var h sql.NullString
	if err := l.conn.QueryRowContext(context.WithoutCancel(ctx), l.sql.Holder, l.key).Scan(&h); err != nil {
		return ""
	}
	return h.String
}

// Release releases the lock. It is safe to call on a nil *Lock. Call it with a context that
// is not cancelled (context.WithoutCancel), so that an interrupted run still releases. An
// error means the session may still hold the lock: the caller must then discard the
// connection rather than return it to a pool (closing the session releases the lock).
func (l *Lock) Release(ctx context.Context) error {
	if l == nil {
		return nil
	}
	var released sql.NullBool
	if err := l.conn.QueryRowContext(ctx, l.sql.Unlock, l.key).Scan(&released); err != nil {
		return fmt.Errorf("releasing the migration lock: %w", err)
	}
	if !released.Valid || !released.Bool {
		return errors.New("releasing the migration lock: the session did not hold it (a connection pooler in transaction mode in front of the server? only the lease lock works there)")
	}
	return nil
}

// Key returns the lock key for a repository: a string for named locks (MySQL: at most 64
// characters), an int64 for numeric ones (PostgreSQL advisory locks). Every process derives
// the same key from the same repository id.
func Key(s *dialect.LockSQL, repositoryID string) any {
	h := fnv.New64a()
	h.Write([]byte(repositoryID))
	sum := h.Sum64()
	if s.NumericKey {
		return int64(sum)
	}
	return fmt.Sprintf("ratchet:%016x", sum)
}
