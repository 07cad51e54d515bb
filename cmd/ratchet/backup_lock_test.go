package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// TestConcurrentSyncsBackUpOnce: runs that start together with a backup directory take one
// backup between them: the backup is taken once a run holds the migration lock and knows it
// has something to apply, and the runs that waited find nothing left to do.
func TestConcurrentSyncsBackUpOnce(t *testing.T) {
	sleep := map[string]string{"sqlite": "", "postgresql": "SELECT pg_sleep(0.5);\n", "mysql": "DO SLEEP(0.5);\n"}
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tdb := testdb.New(t, name)
			repo := writeRepo(t, map[string]string{
				"001_a_default_upgrade.sql": "CREATE TABLE a (id INTEGER);\n" + sleep[name],
				"002_b_default_upgrade.sql": "CREATE TABLE b (id INTEGER);\n" + sleep[name],
			})
			if code, _, stderr := ratchet(t, "--repository", repo, "--database", tdb.URL, "db", "sync", "1"); code != 0 {
				t.Fatalf("first sync: exit %d: %s", code, stderr)
			}
			dir := t.TempDir()
			const runs = 4
			var wg sync.WaitGroup
			results := make([]cmdResult, runs)
			for i := range runs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = runRatchet(t, "--repository", repo, "--database", tdb.URL, "--lock-timeout", "60s", "db", "sync", "--backup-dir", dir)
				}()
			}
			wg.Wait()
			applied := 0
			for i, r := range results {
				if r.code != 0 {
					t.Fatalf("run %d exited %d: %s", i, r.code, r.stderr)
				}
				if strings.Contains(r.stdout, "1 -> 2 ") {
					applied++
				}
			}
			files, err := filepath.Glob(filepath.Join(dir, "*.ratchet-backup"))
			if err != nil {
				t.Fatal(err)
			}
			if applied != 1 || len(files) != 1 {
				t.Errorf("%d runs applied version 2 and %d backups were written (%v); want one of each", applied, len(files), files)
			}
		})
	}
}

// TestRestoreWaitsForTheMigrationLock: a restore does not run its DROPs, nor a backup its
// dump, while a migration holds the lock; with a short lock timeout they give up, changing
// nothing.
func TestRestoreWaitsForTheMigrationLock(t *testing.T) {
	sleep := map[string]string{"postgresql": "SELECT pg_sleep(30);\n", "mysql": "DO SLEEP(30);\n"}
	for _, name := range []string{"postgresql", "mysql"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tdb := testdb.New(t, name)
			scripts := map[string]string{"001_a_default_upgrade.sql": "CREATE TABLE a (id INTEGER);\n"}
			repo := writeRepo(t, scripts)
			if code, _, stderr := ratchet(t, "--repository", repo, "--database", tdb.URL, "db", "sync"); code != 0 {
				t.Fatalf("sync: exit %d: %s", code, stderr)
			}
			file := filepath.Join(t.TempDir(), "a.ratchet-backup")
			if code, _, stderr := ratchet(t, "--repository", repo, "--database", tdb.URL, "db", "backup", "--out", file); code != 0 {
				t.Fatalf("backup: exit %d: %s", code, stderr)
			}
			// A slow version 2 holds the lock while the restore asks for it.
			if err := os.WriteFile(filepath.Join(repo, "versions", "002_slow_default_upgrade.sql"), []byte("CREATE TABLE b (id INTEGER);\n"+sleep[name]), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(ratchetBin, "--repository", repo, "--database", tdb.URL, "db", "sync")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			waitFor(t, tdb.DB, sleeping30[name])
			r := runRatchet(t, "--repository", repo, "--database", tdb.URL, "--lock-timeout", "1s", "db", "restore", file, "--yes")
			if r.code != 1 || !strings.Contains(r.stderr, "another process is migrating this database") {
				t.Fatalf("restore during a migration: exit %d, stderr %q; want the lock timeout", r.code, r.stderr)
			}
			// A backup waits too, rather than dump tables a migration is changing (MariaDB's
			// dump fails with "Table definition has changed").
			later := filepath.Join(t.TempDir(), "b.ratchet-backup")
			r = runRatchet(t, "--repository", repo, "--database", tdb.URL, "--lock-timeout", "1s", "db", "backup", "--out", later)
			if r.code != 1 || !strings.Contains(r.stderr, "another process is migrating this database") {
				t.Fatalf("backup during a migration: exit %d, stderr %q; want the lock timeout", r.code, r.stderr)
			}
			if _, err := os.Stat(later); err == nil {
				t.Errorf("the refused backup left %s", later)
			}
			// The restore would have dropped everything first.
			if tables := listTables(t, tdb.DB, tdb.Dialect); !slices.Contains(tables, "a") || !slices.Contains(tables, "migrate_version") {
				t.Errorf("tables after the refused restore: %v", tables)
			}
		})
	}
}

// sleeping30 counts the sessions running a 30 s sleep.
var sleeping30 = map[string]string{
	"postgresql": "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()",
	"mysql":      "SELECT count(*) FROM information_schema.processlist WHERE info LIKE 'DO SLEEP(30)%'",
}
