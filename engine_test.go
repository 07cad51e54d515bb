package ratchet_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/drivers/sqlitedriver"
	"github.com/ratchetdb/ratchet/internal/testdb"
	"github.com/ratchetdb/ratchet/repository"
)

// TestSQLitePlainDSNLocking: the engine owns its locking whatever DSN the caller opened. With
// a plain DSN (no busy timeout, deferred BEGIN), a run waits for another writer for its lock
// timeout and then reports the servers' lock-timeout error, having written nothing; a writer
// that finishes within the timeout is simply waited for.
func TestSQLitePlainDSNLocking(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "plain.sqlite")
	open := func() *sql.DB {
		db, err := sql.Open("sqlite", path) // no _pragma, no _txlock
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	other := open()
	held, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := held.Exec("CREATE TABLE other_writer (id INTEGER)"); err != nil {
		t.Fatal(err)
	}
	const timeout = 300 * time.Millisecond
	m, err := ratchet.New(open(), dialect.SQLite, newRepo(t, threeVersions), ratchet.WithDriver(sqlitedriver.New()), ratchet.WithLockTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := m.Upgrade(ctx, ratchet.Latest)
	waited := time.Since(start)
	var lt *ratchet.LockTimeoutError
	if !errors.As(err, &lt) || !errors.Is(err, ratchet.ErrLockTimeout) || lt.Timeout != timeout ||
		err.Error() != "another process is migrating this database: lock not acquired within 300ms" {
		t.Fatalf("Upgrade while another connection writes = %+v, %v; want the servers' lock-timeout error", res, err)
	}
	if res == nil || len(res.Applied) != 0 {
		t.Errorf("result %+v: want a result with nothing applied", res)
	}
	if waited < timeout {
		t.Errorf("gave up after %v, before its lock timeout of %v", waited, timeout)
	}
	if err := held.Rollback(); err != nil {
		t.Fatal(err)
	}
	if tables := otherTables(t, path); tables != 0 {
		t.Fatalf("the refused run left %d tables", tables)
	}

	// A writer that commits within the timeout is waited for.
	patient, err := ratchet.New(open(), dialect.SQLite, newRepo(t, threeVersions), ratchet.WithDriver(sqlitedriver.New()), ratchet.WithLockTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := patient.VersionControl(ctx, 0); err != nil {
		t.Fatal(err)
	}
	held, err = other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := held.Exec("CREATE TABLE other_writer (id INTEGER)"); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		held.Commit()
	}()
	res, err = patient.Upgrade(ctx, ratchet.Latest)
	if err != nil || len(res.Applied) != 3 {
		t.Fatalf("Upgrade after the other writer commits = %+v, %v", res, err)
	}
}

// otherTables counts the tables of an SQLite file through a connection of its own.
func otherTables(t *testing.T, path string) int {
	t.Helper()
	var n int
	if err := otherConn(t, path).QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'table'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAtomicCallsGoMigrationOnce: an atomic upgrade that fails after a Go migration has run
// rolls everything back without calling the migration again to find the failure.
func TestAtomicCallsGoMigrationOnce(t *testing.T) {
	for _, name := range []string{"sqlite", "postgresql"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tdb := testdb.New(t, name)
			repo := newRepo(t, map[string]string{
				"001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);",
				"003_c_default_upgrade.sql": "CREATE TABLE t3 (id INTEGER);\nINSERT INTO missing (id) VALUES (1);",
			})
			calls := 0
			err := repo.Register(repository.GoMigration{Version: 2, Name: "count", Up: func(ctx context.Context, tx *sql.Tx) error {
				calls++
				_, err := tx.ExecContext(ctx, "INSERT INTO t1 (id) VALUES (1)")
				return err
			}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := newMigrator(t, tdb, repo).Upgrade(ctx, ratchet.Latest, ratchet.Atomic())
			var se *ratchet.ScriptError
			if !errors.As(err, &se) || se.Version != 3 || se.Line != 2 || se.Index != 2 {
				t.Fatalf("atomic upgrade = %+v, %v; want version 3 to fail at line 2", res, err)
			}
			if calls != 1 {
				t.Errorf("the Go migration was called %d times, want once", calls)
			}
			if res == nil || res.End != 0 || len(res.Applied) != 0 {
				t.Errorf("result %+v: want nothing applied", res)
			}
			if got := tables(t, tdb); got != "" {
				t.Errorf("tables after the rolled back atomic upgrade: %q", got)
			}
		})
	}
}

// TestRetryFailingAtOnceKeepsTheEarlierRecord: a --retry whose first statement fails does not
// lose the record of what the attempt before it had applied.
func TestRetryFailingAtOnceKeepsTheEarlierRecord(t *testing.T) {
	journalled(t, true, func(t *testing.T, tdb *testdb.DB) {
		ctx := context.Background()
		script := "-- ratchet:no-transaction\nCREATE TABLE a1 (id INTEGER);\nCREATE TABLE a2 (id INTEGER);\nCREATE TABLE a3 (id INTEGER);\nINSERT INTO nope (id) VALUES (1);"
		m := newMigrator(t, tdb, newRepo(t, map[string]string{"001_a_default_upgrade.sql": script}))
		if _, err := m.Upgrade(ctx, ratchet.Latest); err == nil {
			t.Fatal("the broken script succeeded")
		}
		// Nothing was undone: the retry fails at its first statement.
		_, err := m.Upgrade(ctx, ratchet.Latest, ratchet.Retry())
		var se *ratchet.ScriptError
		if !errors.As(err, &se) || se.Index != 1 {
			t.Fatalf("retry = %v; want statement 1 to fail", err)
		}
		_, err = m.Upgrade(ctx, ratchet.Latest)
		var sv *ratchet.StoppedVersionError
		if !errors.As(err, &sv) || sv.Failed != 1 || sv.Applied != 0 || sv.Earlier != 3 {
			t.Fatalf("after the failed retry: %v (%+v); want failed at 1, earlier attempt's 3 statements kept", err, sv)
		}
		// Once the operator undid them, a retry completes; the history counts all 4.
		for _, tb := range []string{"a1", "a2", "a3"} {
			if _, err := tdb.DB.Exec("DROP TABLE " + tb); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tdb.DB.Exec("CREATE TABLE nope (id INTEGER)"); err != nil {
			t.Fatal(err)
		}
		res, err := m.Upgrade(ctx, ratchet.Latest, ratchet.Retry())
		if err != nil || len(res.Applied) != 1 || res.Applied[0].Statements != 4 {
			t.Fatalf("retry after the undo = %+v, %v", res, err)
		}
	})
}

// TestUnreleasedLockNeverReturnsToThePool: when the migration lock cannot be released (here
// a Go migration released it behind the engine's back, so the unlock finds nothing), the
// connection is discarded, not handed back to the caller's pool.
func TestUnreleasedLockNeverReturnsToThePool(t *testing.T) {
	unlockAll := map[string]string{"postgresql": "SELECT pg_advisory_unlock_all()", "mysql": "SELECT RELEASE_ALL_LOCKS()"}
	for _, name := range []string{"postgresql", "mysql"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tdb := testdb.New(t, name)
			repo := newRepo(t, map[string]string{"001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);"})
			err := repo.Register(repository.GoMigration{Version: 2, Name: "unlock", Up: func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, unlockAll[name])
				return err
			}})
			if err != nil {
				t.Fatal(err)
			}
			db := testdb.Open(t, tdb.URL)
			m, err := ratchet.New(db, tdb.Dialect, repo, ratchet.WithDriver(tdb.Driver))
			if err != nil {
				t.Fatal(err)
			}
			res, err := m.Upgrade(ctx, ratchet.Latest)
			if err == nil || res == nil || len(res.Applied) != 2 {
				t.Fatalf("Upgrade = %+v, %v; want both versions applied and the failed release reported", res, err)
			}
			if st := db.Stats(); st.OpenConnections != 0 {
				t.Errorf("pool after a failed release: %+v; want the connection discarded", st)
			}
		})
	}
}
