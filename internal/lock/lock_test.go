package lock_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/internal/lock"
	"github.com/ratchetdb/ratchet/internal/testdb"
)

// TestLock is the conformance test every backend's lock passes: one session holds it, another
// times out naming the holder, gets it once released, and databases of one server do not
// share locks.
func TestLock(t *testing.T) {
	for _, name := range []string{"postgresql", "mysql"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a := testdb.New(t, name)
			connA := conn(t, a.DB)
			connB := conn(t, testdb.Open(t, a.URL)) // another session, as another process has
			held, err := lock.Acquire(ctx, connA, a.Dialect, "repo", time.Second)
			if err != nil || held == nil {
				t.Fatalf("Acquire = %v, %v", held, err)
			}

			start := time.Now()
			_, err = lock.Acquire(ctx, connB, a.Dialect, "repo", 300*time.Millisecond)
			var te *lock.TimeoutError
			if !errors.As(err, &te) || !errors.Is(err, lock.ErrTimeout) || te.Holder == "" {
				t.Fatalf("second Acquire = %v, want a TimeoutError naming the holder", err)
			}
			if d := time.Since(start); d < 300*time.Millisecond || d > 3*time.Second {
				t.Errorf("waited %v for a 300ms timeout", d)
			}
			if !strings.Contains(err.Error(), "another process is migrating this database") {
				t.Errorf("message = %q", err)
			}

			// Another repository, and the same repository in another database, are free.
			other, err := lock.Acquire(ctx, connB, a.Dialect, "another repo", time.Second)
			if err != nil {
				t.Fatalf("another repository's lock: %v", err)
			}
			other.Release(ctx)
			c := testdb.New(t, name)
			elsewhere, err := lock.Acquire(ctx, conn(t, c.DB), c.Dialect, "repo", time.Second)
			if err != nil {
				t.Fatalf("the same repository in another database: %v", err)
			}
			elsewhere.Release(ctx)

			// A waiter gets the lock as soon as it is released; cancelling stops a wait.
			go func() {
				time.Sleep(200 * time.Millisecond)
				held.Release(context.Background())
			}()
			got, err := lock.Acquire(ctx, connB, a.Dialect, "repo", 5*time.Second)
			if err != nil {
				t.Fatalf("Acquire after release: %v", err)
			}
			cctx, cancel := context.WithCancel(ctx)
			time.AfterFunc(100*time.Millisecond, cancel)
			if _, err := lock.Acquire(cctx, conn(t, a.DB), a.Dialect, "repo", 10*time.Second); !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled Acquire = %v, want context.Canceled", err)
			}
			if err := got.Release(ctx); err != nil {
				t.Errorf("Release: %v", err)
			}
		})
	}
}

// TestNoLockForSQLite: SQLite serialises writers itself.
func TestNoLockForSQLite(t *testing.T) {
	db := testdb.New(t, "sqlite")
	l, err := lock.Acquire(context.Background(), conn(t, db.DB), db.Dialect, "repo", time.Second)
	if l != nil || err != nil {
		t.Fatalf("Acquire on SQLite = %v, %v; want nil, nil", l, err)
	}
	if err := l.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// conn returns a dedicated connection of db, closed when the test ends.
func conn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestLockEndsWithItsSession: a process that dies releases its lock with its session.
func TestLockEndsWithItsSession(t *testing.T) {
	for _, name := range []string{"postgresql", "mysql"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a := testdb.New(t, name)
			dying, err := a.DB.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := lock.Acquire(ctx, dying, a.Dialect, "repo", time.Second); err != nil {
				t.Fatal(err)
			}
			// Close the session without releasing: as when the process dies.
			if err := dying.Raw(func(driverConn any) error { return driverConn.(io.Closer).Close() }); err != nil {
				t.Fatal(err)
			}
			dying.Close()
			got, err := lock.Acquire(ctx, conn(t, testdb.Open(t, a.URL)), a.Dialect, "repo", 5*time.Second)
			if err != nil || got == nil {
				t.Fatalf("Acquire after the holder's session ended = %v, %v", got, err)
			}
		})
	}
}
