package main

import (
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
	tx, err := c.tdb.DB.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("SELECT * FROM ratchet_journal FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	// The group's journal entry waits for the lock; then, after the interrupt, so does
	// whatever ratchet writes to the journal on its way out.
	lockWaits := "SELECT count(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'"
	waitFor(t, c.tdb.DB, "SELECT count(*) FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID() AND state = 'Updating' AND info LIKE 'UPDATE %ratchet_journal%'")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	gone := false
	for waiting := 0; waiting < 2 && !gone; {
		select {
		case err = <-exited:
			gone = true // ratchet wrote nothing that waits
		case <-time.After(5 * time.Millisecond):
			if err := c.tdb.DB.QueryRow(lockWaits).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("ratchet neither exited nor waited for the journal row 20 s after SIGINT\nstdout:\n%sstderr:\n%s", stdout.String(), stderr.String())
			}
		}
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if !gone {
		err = <-exited
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("ratchet ended with %v, want exit 130\nstdout:\n%sstderr:\n%s", err, stdout.String(), stderr.String())
	}
	c.quiesce(crashRun{args: cmd.Args})

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
