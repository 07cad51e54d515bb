package lock_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/internal/lock"
	"github.com/ratchetdb/ratchet/internal/testdb"
)

// leaseConfig is a lease of length on tdb's lock table, waiting up to timeout.
func leaseConfig(tdb *testdb.DB, length, timeout time.Duration) lock.LeaseConfig {
	return lock.LeaseConfig{Table: tdb.Dialect.Qualified(tdb.Schema(), "ratchet_lock"), RepositoryID: "repo", Length: length, Timeout: timeout}
}

// TestLeaseHeldWhileRenewed: a lease outlives its length while its heartbeat runs; another
// process times out naming the holder, and gets it once released.
func TestLeaseHeldWhileRenewed(t *testing.T) {
	for _, name := range []string{"postgresql", "mysql"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tdb := testdb.New(t, name)
			a, err := lock.AcquireLease(ctx, tdb.DB, tdb.Dialect, leaseConfig(tdb, time.Second, time.Second))
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(2500 * time.Millisecond)
			if err := a.Check(); err != nil {
				t.Fatalf("a renewed lease after 2.5 lease lengths: %v", err)
			}
			other := testdb.Open(t, tdb.URL) // another process's pool
			_, err = lock.AcquireLease(ctx, other, tdb.Dialect, leaseConfig(tdb, time.Second, 500*time.Millisecond))
			var te *lock.TimeoutError
			if !errors.As(err, &te) || !strings.Contains(te.Holder, "unless renewed") {
				t.Fatalf("a second lease = %v; want a timeout naming the holder", err)
			}
			if err := a.Release(ctx); err != nil {
				t.Fatal(err)
			}
			b, err := lock.AcquireLease(ctx, other, tdb.Dialect, leaseConfig(tdb, time.Second, 500*time.Millisecond))
			if err != nil {
				t.Fatalf("after the release: %v", err)
			}
			if err := b.Release(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestStaleLeaseTakenOverAfterExpiry: the row of a holder that died (nobody renews it) keeps
// others out until it expires, by the database's clock, and not a moment longer.
func TestStaleLeaseTakenOverAfterExpiry(t *testing.T) {
	for _, name := range []string{"postgresql", "mysql"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tdb := testdb.New(t, name)
			cfg := leaseConfig(tdb, 5*time.Second, 300*time.Millisecond)
			sql := tdb.Dialect.Lease().For(cfg.Table)
			if _, err := tdb.DB.Exec(sql.Create); err != nil {
				t.Fatal(err)
			}
			// A dead holder's row: taken just now for 2 seconds, never renewed.
			inserted := time.Now()
			if _, err := tdb.DB.Exec(sql.Insert, "repo", "dead-holder", "deadhost", 4242, int64(2e6)); err != nil {
				t.Fatal(err)
			}
			_, err := lock.AcquireLease(ctx, tdb.DB, tdb.Dialect, cfg)
			var te *lock.TimeoutError
			if !errors.As(err, &te) || !strings.Contains(te.Holder, "pid 4242 on deadhost") {
				t.Fatalf("before expiry = %v; want a timeout naming pid 4242 on deadhost", err)
			}
			cfg.Timeout = 10 * time.Second
			l, err := lock.AcquireLease(ctx, tdb.DB, tdb.Dialect, cfg)
			if err != nil {
				t.Fatalf("after expiry: %v", err)
			}
			defer l.Release(ctx)
			// The database set the expiry after inserted, by the same machine's clock.
			if d := time.Since(inserted); d < 2*time.Second || d > 4*time.Second {
				t.Errorf("the stale lease was taken over %v after it was written; want just after its 2s", d)
			}
			var holders int
			if err := tdb.DB.QueryRow("SELECT count(*) FROM " + cfg.Table + " WHERE holder <> 'dead-holder'").Scan(&holders); err != nil || holders != 1 {
				t.Fatalf("rows held by the new holder: %d, %v", holders, err)
			}
			if err := l.Check(); err != nil {
				t.Errorf("the new holder's lease: %v", err)
			}
		})
	}
}

// TestLeaseLost: a holder whose renewals cannot get through (here, another session keeps its
// row locked) loses the lease once its length has passed; another process then takes it
// over, the first holder learns that it was taken, and its release leaves the new holder's
// row alone.
func TestLeaseLost(t *testing.T) {
	for _, name := range []string{"postgresql", "mysql"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tdb := testdb.New(t, name)
			cfg := leaseConfig(tdb, time.Second, time.Second)
			a, err := lock.AcquireLease(ctx, tdb.DB, tdb.Dialect, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Release(ctx)
			blocker, err := testdb.Open(t, tdb.URL).Begin()
			if err != nil {
				t.Fatal(err)
			}
			defer blocker.Rollback()
			if _, err := blocker.Exec("SELECT * FROM " + cfg.Table + " FOR UPDATE"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond)
			if err := a.Check(); !errors.Is(err, lock.ErrLost) || !strings.Contains(err.Error(), "could not be renewed within its 1s") {
				t.Fatalf("Check after the lease length without renewal = %v, want ErrLost", err)
			}
			blocker.Rollback()
			other := testdb.Open(t, tdb.URL)
			cfg.Timeout = 5 * time.Second
			b, err := lock.AcquireLease(ctx, other, tdb.Dialect, cfg)
			if err != nil {
				t.Fatalf("taking over the lost lease: %v", err)
			}
			time.Sleep(600 * time.Millisecond) // a's next renewal finds b's row
			if err := a.Check(); !errors.Is(err, lock.ErrLost) {
				t.Errorf("Check after the takeover = %v, want ErrLost", err)
			}
			if err := a.Release(ctx); err != nil {
				t.Fatal(err)
			}
			if err := b.Check(); err != nil {
				t.Errorf("the new holder, after the old one released: %v", err)
			}
			var n int
			if err := tdb.DB.QueryRow("SELECT count(*) FROM " + cfg.Table).Scan(&n); err != nil || n != 1 {
				t.Errorf("lock rows after the old holder's release: %d (%v), want the new holder's", n, err)
			}
			if err := b.Release(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}
