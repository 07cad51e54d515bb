package ratchet_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/internal/testdb"
)

// TestLeaseLock: on both servers an upgrade under the lease applies its versions, reports the
// lease in its status, and leaves the lock table empty; a pool of one connection, where the
// heartbeat could never run, is refused before anything is written.
func TestLeaseLock(t *testing.T) {
	for _, name := range []string{"postgresql", "mysql"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tdb := testdb.New(t, name)
			repo := newRepo(t, threeVersions)
			m, err := ratchet.New(tdb.DB, tdb.Dialect, repo, ratchet.WithDriver(tdb.Driver), ratchet.WithLock(ratchet.LockLease))
			if err != nil {
				t.Fatal(err)
			}
			st, err := m.Status(ctx)
			if err != nil || st.Lock != ratchet.LockLease || st.SchemaUpgradeMethod != "" {
				t.Fatalf("Status = lock %v, schema upgrades %q, %v; want the lease, on no cluster", st.Lock, st.SchemaUpgradeMethod, err)
			}
			if res, err := m.Upgrade(ctx, ratchet.Latest); err != nil || res.End != 3 {
				t.Fatalf("Upgrade = %+v, %v", res, err)
			}
			var n int
			if err := tdb.DB.QueryRow("SELECT count(*) FROM ratchet_lock").Scan(&n); err != nil || n != 0 {
				t.Errorf("ratchet_lock: %d rows (%v) after the run, want none", n, err)
			}

			one := testdb.New(t, name)
			one.DB.SetMaxOpenConns(1)
			m, err = ratchet.New(one.DB, one.Dialect, repo, ratchet.WithDriver(one.Driver), ratchet.WithLock(ratchet.LockLease))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Upgrade(ctx, ratchet.Latest); err == nil || !strings.Contains(err.Error(), "allows one connection") {
				t.Errorf("Upgrade on a pool of one = %v, want a refusal", err)
			}
			if got := one.Tables(t); len(got) != 0 {
				t.Errorf("tables after the refusal: %v", got)
			}
		})
	}
}

// TestLockOptions: the lock options refuse what cannot work.
func TestLockOptions(t *testing.T) {
	tdb := testdb.New(t, "sqlite")
	repo := newRepo(t, threeVersions)
	for _, opt := range []ratchet.Option{ratchet.WithLock(ratchet.LockMethod(7)), ratchet.WithLeaseDuration(500e6)} {
		if _, err := ratchet.New(tdb.DB, tdb.Dialect, repo, opt); err == nil {
			t.Errorf("New accepted %v", opt)
		}
	}
	// SQLite's file lock serialises writers: the lease changes nothing there.
	m, err := ratchet.New(tdb.DB, tdb.Dialect, repo, ratchet.WithLock(ratchet.LockLease))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := m.Upgrade(context.Background(), ratchet.Latest); err != nil || res.End != 3 {
		t.Fatalf("Upgrade = %+v, %v", res, err)
	}
	if got := tables(t, tdb); strings.Contains(got, "ratchet_lock") {
		t.Errorf("tables on SQLite: %s", got)
	}
}
