package ratchet_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/internal/testdb"
)

// otherWriter tries to write the file through a connection of its own that does not wait.
func otherWriter(t *testing.T, path string) error {
	_, err := otherConn(t, path).Exec("CREATE TABLE IF NOT EXISTS other_writer (id INTEGER)")
	return err
}

// otherReader reads the file through a connection of its own that does not wait.
func otherReader(t *testing.T, path string) error {
	var n int
	return otherConn(t, path).QueryRow("SELECT count(*) FROM sqlite_master").Scan(&n)
}

// otherConn opens the SQLite file in a pool of its own, with no busy timeout.
func otherConn(t *testing.T, path string) *sql.DB {
	t.Helper()
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	return other
}

// TestSQLiteUpgradeHoldsTheFile: while an upgrade runs, no other connection can write (or
// read) the file, as the server dialects' migration lock keeps other migrations out; once it
// returns, the file is free again and the connection is back to the journal and locking
// modes it had.
func TestSQLiteUpgradeHoldsTheFile(t *testing.T) {
	tdb := testdb.New(t, "sqlite")
	var duringRun error
	checked := false
	m, err := ratchet.New(tdb.DB, tdb.Dialect, newRepo(t, threeVersions), ratchet.WithDriver(tdb.Driver), ratchet.WithEvents(func(e ratchet.Event) {
		if e.Kind == ratchet.VersionApplied && e.Version == 1 {
			duringRun, checked = otherWriter(t, tdb.Name), true
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Upgrade(context.Background(), ratchet.Latest); err != nil {
		t.Fatal(err)
	}
	if !checked {
		t.Fatal("no VersionApplied event for version 1")
	}
	if duringRun == nil || !strings.Contains(duringRun.Error(), "locked") {
		t.Errorf("another connection writing during the run: err = %v, want database is locked", duringRun)
	}
	if err := otherWriter(t, tdb.Name); err != nil {
		t.Errorf("another connection writing after the run: %v", err)
	}
	for pragma, want := range map[string]string{"journal_mode": "delete", "locking_mode": "normal"} {
		var got string
		if err := tdb.DB.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s after the run = %q, %v; want %q", pragma, got, err, want)
		}
	}
}

// TestSQLiteUpgradeLeavesWALAlone: a database the owner put in WAL mode stays in WAL mode,
// and its readers are not held up by the run.
func TestSQLiteUpgradeLeavesWALAlone(t *testing.T) {
	tdb := testdb.New(t, "sqlite")
	if _, err := tdb.DB.Exec("PRAGMA journal_mode = WAL"); err != nil {
		t.Fatal(err)
	}
	var duringRun error
	m, err := ratchet.New(tdb.DB, tdb.Dialect, newRepo(t, threeVersions), ratchet.WithDriver(tdb.Driver), ratchet.WithEvents(func(e ratchet.Event) {
		if e.Kind == ratchet.VersionApplied && e.Version == 1 {
			duringRun = otherReader(t, tdb.Name)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Upgrade(context.Background(), ratchet.Latest); err != nil {
		t.Fatal(err)
	}
	if duringRun != nil {
		t.Errorf("another connection reading during the run: %v", duringRun)
	}
	var mode string
	if err := tdb.DB.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode after the run = %q, %v; want wal", mode, err)
	}
	if err := otherWriter(t, tdb.Name); err != nil {
		t.Errorf("another connection writing after the run: %v", err)
	}
}

// TestSQLiteUpToDateNeedsNoLock: a run with nothing to apply does not wait for the write
// lock, so a service can call Upgrade at start-up while another connection writes.
func TestSQLiteUpToDateNeedsNoLock(t *testing.T) {
	tdb := testdb.New(t, "sqlite")
	m := newMigrator(t, tdb, newRepo(t, threeVersions))
	if _, err := m.Upgrade(context.Background(), ratchet.Latest); err != nil {
		t.Fatal(err)
	}
	writer, err := sql.Open("sqlite", "file:"+tdb.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	tx, err := writer.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("CREATE TABLE held (id INTEGER)"); err != nil {
		t.Fatal(err)
	}
	busy, err := ratchet.New(testdb.Open(t, tdb.URL), tdb.Dialect, newRepo(t, threeVersions), ratchet.WithDriver(tdb.Driver), ratchet.WithLockTimeout(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := busy.Upgrade(context.Background(), ratchet.Latest); err != nil || len(res.Applied) != 0 {
		t.Errorf("Upgrade of an up-to-date database while another connection writes = %+v, %v; want nothing applied, no error", res, err)
	}
}
