package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// writeRepo writes a repository with the given scripts (file name → SQL) into a new directory.
func writeRepo(t *testing.T, scripts map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "versions"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := "[db_settings]\nrepository_id=process_test\nversion_table=migrate_version\n"
	if err := os.WriteFile(filepath.Join(dir, "migrate.cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, text := range scripts {
		if err := os.WriteFile(filepath.Join(dir, "versions", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestConcurrentProcesses starts 8 `ratchet db sync` processes at once on one database of
// each dialect: all must exit 0 and every version must run exactly once.
func TestConcurrentProcesses(t *testing.T) {
	const versions = 30
	scripts := map[string]string{"001_counter_default_upgrade.sql": "CREATE TABLE counter (version INTEGER NOT NULL);\nINSERT INTO counter VALUES (1);"}
	for v := 2; v <= versions; v++ {
		scripts[fmt.Sprintf("%03d_step_default_upgrade.sql", v)] = fmt.Sprintf("CREATE TABLE t%d (id INTEGER);\nINSERT INTO counter VALUES (%d);", v, v)
	}
	repo := writeRepo(t, scripts)
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			tdb := testdb.New(t, name)
			var wg sync.WaitGroup
			type outcome struct {
				code           int
				stdout, stderr string
			}
			results := make([]outcome, 8)
			for i := range results {
				wg.Add(1)
				go func() {
					defer wg.Done()
					code, stdout, stderr := ratchet(t, "--repository", repo, "--database", tdb.URL, "--lock-timeout", "60s", "db", "sync")
					results[i] = outcome{code, stdout, stderr}
				}()
			}
			wg.Wait()
			applied := 0
			for i, r := range results {
				if r.code != 0 {
					t.Errorf("process %d exited %d: %s", i, r.code, r.stderr)
				}
				applied += strings.Count(r.stdout, " -> ")
			}
			if applied != versions {
				t.Errorf("the processes reported %d applied versions in all, want %d", applied, versions)
			}
			var n, distinct int
			if err := tdb.DB.QueryRow("SELECT count(*), count(DISTINCT version) FROM counter").Scan(&n, &distinct); err != nil {
				t.Fatal(err)
			}
			if n != versions || distinct != versions {
				t.Errorf("counter: %d rows, %d distinct; want each of the %d versions exactly once", n, distinct, versions)
			}
			var v int
			if err := tdb.DB.QueryRow("SELECT version FROM migrate_version WHERE repository_id = 'process_test'").Scan(&v); err != nil || v != versions {
				t.Errorf("recorded version %d, %v; want %d", v, err, versions)
			}
		})
	}
}

// TestInterruptRollsBack sends SIGINT while a long version runs: the version rolls back, the
// ones before it stay, ratchet exits 130, and the next run completes.
func TestInterruptRollsBack(t *testing.T) {
	repo := writeRepo(t, map[string]string{
		"001_quick_default_upgrade.sql": "CREATE TABLE quick (id INTEGER);",
		"002_slow_sqlite_upgrade.sql": "CREATE TABLE slow (n INTEGER);\n" +
			"INSERT INTO slow WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000000) SELECT x FROM c;",
	})
	db := "sqlite:///" + filepath.Join(t.TempDir(), "app.db")
	// Interrupt version 2 once version 1 is reported applied.
	cmd, stdout, stderr := startPastFirstVersion(t, "--repository", repo, "--database", db, "db", "sync")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 130 {
		t.Fatalf("ratchet ended with %v, want exit 130; stdout %q stderr %q", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr %q does not say it was interrupted", stderr.String())
	}
	code, out, _ := ratchet(t, "--repository", repo, "--database", db, "db", "version")
	if code != 0 || strings.TrimSpace(out) != "1" {
		t.Fatalf("version after interrupt = %q (exit %d), want 1", out, code)
	}
	code, out, errOut := ratchet(t, "--repository", repo, "--database", db, "db", "status")
	if code != 0 || !regexp.MustCompile(`(?m)^2\s+pending\s`).MatchString(out) {
		t.Errorf("status after interrupt (exit %d): %s %s", code, out, errOut)
	}
	code, out, errOut = ratchet(t, "--repository", repo, "--database", db, "db", "check")
	if code != 3 {
		t.Errorf("check after interrupt exited %d, want 3 (pending): %s %s", code, out, errOut)
	}
}

// TestSQLiteWriterHeldPastLockTimeout: another process keeps the SQLite file locked for
// writing longer than --lock-timeout: exit 1 with the lock-timeout message, nothing written.
func TestSQLiteWriterHeldPastLockTimeout(t *testing.T) {
	repo := writeRepo(t, map[string]string{"001_a_default_upgrade.sql": "CREATE TABLE a (id INTEGER);"})
	tdb := testdb.New(t, "sqlite")
	conn, err := tdb.DB.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, _, stderr := ratchet(t, "--repository", repo, "--database", tdb.URL, "--lock-timeout", "1s", "db", "sync")
	if code != 1 || !strings.HasPrefix(stderr, "ratchet: another process is migrating this database: lock not acquired within 1s") {
		t.Fatalf("exit %d, stderr %q; want 1 and the lock-timeout message", code, stderr)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("gave up after %v, before the 1s lock timeout", d)
	}
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close() // the pool's one connection, which Tables needs
	if got := tdb.Tables(t); len(got) != 0 {
		t.Errorf("tables %v after a refused run", got)
	}
	if code, _, stderr := ratchet(t, "--repository", repo, "--database", tdb.URL, "db", "sync"); code != 0 {
		t.Fatalf("once the writer is gone: exit %d, %s", code, stderr)
	}
}
