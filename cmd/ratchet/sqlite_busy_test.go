package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLiteBusyFileIsALockTimeout: an SQLite file that another process keeps locked for
// longer than --lock-timeout gives the servers' lock-timeout message, exit 1, for a reading
// command as for an upgrade, and nothing is written.
func TestSQLiteBusyFileIsALockTimeout(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "busy.sqlite")
	repo := writeRepo(t, map[string]string{"001_a_default_upgrade.sql": "CREATE TABLE a (id INTEGER);"})
	url := "sqlite:///" + path
	if code, _, stderr := ratchet(t, "--repository", repo, "--database", url, "db", "version_control", "0"); code != 0 {
		t.Fatalf("version_control: exit %d: %s", code, stderr)
	}
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	if _, err := other.Exec("BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	defer other.Exec("ROLLBACK")
	for _, args := range [][]string{{"db", "version"}, {"db", "sync"}} {
		code, stdout, stderr := ratchet(t, append([]string{"--repository", repo, "--database", url, "--lock-timeout", "300ms"}, args...)...)
		want := "ratchet: another process is migrating this database: lock not acquired within 300ms (wait and retry, or raise --lock-timeout)\n"
		if code != 1 || stderr != want || strings.Contains(stdout, "->") {
			t.Errorf("%s on a locked file: exit %d, stdout %q, stderr %q; want exit 1 and %q", strings.Join(args, " "), code, stdout, stderr, want)
		}
	}
	if _, err := other.Exec("ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := other.QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'a'").Scan(&n); err != nil || n != 0 {
		t.Errorf("table a: %d, %v; want nothing written", n, err)
	}
}
