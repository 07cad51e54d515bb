package main

import (
	"bytes"
	"database/sql"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// TestCrashInterruptWhileJournalWaits sends SIGINT to `ratchet db sync` on MySQL/MariaDB
// while a statement group (DML, run in one transaction with its journal entry) waits for a
// lock on the journal row that another session holds. ratchet cancels by dropping its
// session, but the server still runs what it was sent: once the lock frees, it commits the
// group, INSERT and journal entry together. Whatever ratchet records on its way out must not
// overwrite that: after the server is quiet, the journal must count the INSERT as applied
// exactly when its row is there, and the next runs must complete the version with the
// INSERT applied once.
func TestCrashInterruptWhileJournalWaits(t *testing.T) {
	repo := writeRepo(t, map[string]string{
		"001_ledger_mysql_upgrade.sql": "CREATE TABLE ledger (version INTEGER NOT NULL);",
		// Statement 1 sleeps so that the test can take the journal row's lock before the
		// group's journal entry, which follows it in the same transaction, asks for it.
		"002_two_mysql_upgrade.sql": "INSERT INTO ledger (version) SELECT 2 FROM (SELECT SLEEP(1)) s;\nCREATE TABLE two (id INTEGER);",
	})
	c := &crashTest{t: t, name: "mysql", repo: repo, tdb: testdb.New(t, "mysql")}
	cmd, stdout, stderr := startPastFirstVersion(t, c.args("db", "sync")...)
	t.Cleanup(func() { cmd.Process.Kill() })
	waitFor(t, c.tdb.DB, "SELECT count(*) FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID() AND info LIKE '%SLEEP(1)%'")
	tx := holdLock(t, c.tdb.DB, "SELECT * FROM ratchet_journal FOR UPDATE")
	defer tx.Rollback()
	// The group's journal entry waits for the lock; then, after the interrupt, so does
	// whatever ratchet writes to the journal on its way out.
	lockWaits := mysqlLockWaits
	waitForLockWait(t, c.tdb.DB)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var err error
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	gone := false
	for waiting := 0; waiting < 2 && !gone; {
		select {
		case err = <-exited:
			gone = true // ratchet wrote nothing that waits
		case <-time.After(innodbRefresh):
			if err := c.tdb.DB.QueryRow(lockWaits).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("ratchet neither exited nor waited for the journal row 20 s after SIGINT\nstdout:\n%sstderr:\n%s", stdout.String(), stderr.String())
			}
		}
	}
	t.Logf("what ratchet wrote to the journal on its way out waited for the row: %v", !gone)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if !gone {
		err = <-exited
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("ratchet ended with %v, want exit 130\nstdout:\n%sstderr:\n%s", err, stdout.String(), stderr.String())
	}
	c.quiesce(crashRun{args: c.args("db", "sync")})

	var rows, done, running int
	if err := c.tdb.DB.QueryRow("SELECT count(*) FROM ledger WHERE version = 2").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := c.tdb.DB.QueryRow("SELECT done, running FROM ratchet_journal WHERE version = 2").Scan(&done, &running); err != nil {
		t.Fatalf("reading the journal of version 2: %v", err)
	}
	if done != rows || running != 0 {
		t.Errorf("after the interrupt the ledger has %d rows for version 2 and the journal says %d statements applied, statement %d running; want the INSERT counted applied exactly when its row is there, nothing in flight",
			rows, done, running)
	}
	full := c.args("db", "sync")
	code, out, errOut := ratchet(t, full...)
	if code != 1 || !strings.Contains(errOut, "version 2 was interrupted after statement ") {
		t.Fatalf("`ratchet %s` exited %d, want 1, version 2 interrupted\nstdout:\n%sstderr:\n%s", strings.Join(full, " "), code, out, errOut)
	}
	c.run("db", "sync", "--resume")
	if err := c.tdb.DB.QueryRow("SELECT count(*) FROM ledger WHERE version = 2").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Errorf("after `db sync --resume` the INSERT of version 2 was applied %d times, want once", rows)
	}
	if v := c.version(); v != 2 {
		t.Errorf("the version is %d, want 2", v)
	}
}

// TestCrashInterruptDuringBookkeeping sends SIGINT to `ratchet db sync` on PostgreSQL while
// a no-transaction version, all of whose statements ran, waits to record itself applied:
// another session holds the version table's row. Both statements are applied and journalled,
// none is in flight: the journal must say exactly that (running 0), a plain `db sync` must
// say the version was interrupted after statement 2 of 2, and `db sync --resume` must
// complete it without running either statement again.
func TestCrashInterruptDuringBookkeeping(t *testing.T) {
	repo := writeRepo(t, map[string]string{
		"001_quick_default_upgrade.sql":  "CREATE TABLE quick (id INTEGER);",
		"002_two_postgresql_upgrade.sql": "-- ratchet:no-transaction\nCREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER);",
	})
	c := &crashTest{t: t, name: "postgresql", repo: repo, tdb: testdb.New(t, "postgresql")}
	c.run("db", "sync", "1")
	tx, stdout, stderr, err := interruptWhileLocked(t, c, "SELECT * FROM migrate_version FOR UPDATE")
	defer tx.Rollback()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("ratchet ended with %v, want exit 130\nstdout:\n%sstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	c.quiesce(crashRun{args: c.args("db", "sync")})
	var version, done, running int
	if err := c.tdb.DB.QueryRow("SELECT version FROM migrate_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if err := c.tdb.DB.QueryRow("SELECT done, running FROM ratchet_journal WHERE version = 2").Scan(&done, &running); err != nil {
		t.Fatalf("reading the journal of version 2: %v", err)
	}
	if version != 1 || done != 2 || running != 0 {
		t.Errorf("after the interrupt: version %d, journal of version 2 with %d statements applied and statement %d running; want version 1, 2 applied, none running",
			version, done, running)
	}
	full := c.args("db", "sync")
	want := "ratchet: version 2 was interrupted after statement 2 of 2 (versions/002_two_postgresql_upgrade.sql); statements 1-2 stay applied; run `db sync --resume` to continue at statement 3"
	if code, out, errOut := ratchet(t, full...); code != 1 || !strings.HasPrefix(errOut, want) {
		t.Fatalf("`ratchet %s` exited %d, want 1 with stderr starting %q\nstdout:\n%sstderr:\n%s", strings.Join(full, " "), code, want, out, errOut)
	}
	c.run("db", "sync", "--resume")
	var runs, statements int
	if err := c.tdb.DB.QueryRow("SELECT count(*), max(statements) FROM ratchet_history WHERE version = 2").Scan(&runs, &statements); err != nil {
		t.Fatal(err)
	}
	if v := c.version(); v != 2 || runs != 1 || statements != 2 {
		t.Errorf("after db sync --resume: version %d, %d history rows for version 2 counting %d statements; want version 2, 1 row counting 2", v, runs, statements)
	}
}

// TestCrashInterruptBeforeVersionsSaysSo sends SIGINT to `ratchet db sync` on PostgreSQL
// while it waits, before any version runs, for a table another session has locked. ratchet
// must exit 130 saying it was interrupted (not report the cancellation as a failure of what
// it was doing) and change nothing; the next run completes.
func TestCrashInterruptBeforeVersionsSaysSo(t *testing.T) {
	repo := writeRepo(t, map[string]string{
		"001_quick_default_upgrade.sql": "CREATE TABLE quick (id INTEGER);",
		"002_next_default_upgrade.sql":  "CREATE TABLE next (id INTEGER);",
	})
	c := &crashTest{t: t, name: "postgresql", repo: repo, tdb: testdb.New(t, "postgresql")}
	c.run("db", "sync", "1")
	tx, stdout, stderr, err := interruptWhileLocked(t, c, "LOCK TABLE migrate_version IN ACCESS EXCLUSIVE MODE")
	defer tx.Rollback()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("ratchet ended with %v, want exit 130 and a message saying it was interrupted\nstdout:\n%sstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if v := c.version(); v != 1 {
		t.Errorf("after the interrupt the version is %d, want 1", v)
	}
	c.run("db", "sync")
	if v := c.version(); v != 2 {
		t.Errorf("after the next db sync the version is %d, want 2", v)
	}
}

// mysqlLockWaits counts the transactions of ratchet's sessions on the test database
// (MySQL/MariaDB) that wait for a lock: ratchet qualifies its bookkeeping tables with the
// database's name.
const mysqlLockWaits = "SELECT count(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'" +
	" AND trx_query LIKE concat('%', DATABASE(), '.ratchet_%')"

// innodbRefresh is how long a reader of information_schema.innodb_trx must leave it unread
// for the server to refresh it: read more often, it keeps answering from its cache.
const innodbRefresh = 150 * time.Millisecond

// waitForLockWait waits until one of ratchet's sessions on the test database waits for a
// lock, for up to 20 s.
func waitForLockWait(t *testing.T, db *sql.DB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := db.QueryRow(mysqlLockWaits).Scan(&n); err != nil {
			t.Fatalf("%s: %v", mysqlLockWaits, err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no session of ratchet waits for a lock after 20 s: %s", mysqlLockWaits)
		}
		time.Sleep(innodbRefresh)
	}
}

// interruptWhileLocked holds lock (a statement taking a lock) in a transaction of its own,
// starts `ratchet db sync` on PostgreSQL, sends it SIGINT once it waits for that lock, and
// returns the transaction, still open, with what ratchet printed and how it ended.
func interruptWhileLocked(t *testing.T, c *crashTest, lock string) (tx *sql.Tx, stdout, stderr *bytes.Buffer, err error) {
	t.Helper()
	tx = holdLock(t, c.tdb.DB, lock)
	cmd := exec.Command(ratchetBin, c.args("db", "sync")...)
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	waitFor(t, c.tdb.DB, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	return tx, stdout, stderr, cmd.Wait()
}

// holdLock begins a transaction on db that takes a lock with stmt, and returns it open.
func holdLock(t *testing.T, db *sql.DB, stmt string) *sql.Tx {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(stmt); err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	return tx
}
