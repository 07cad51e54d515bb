package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/backup"
	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/testdb"
)

// TestRestoreAfterKilledSQLiteRun kills `db sync` on SQLite until it dies between two
// versions, leaving the PERSIST journal of its connection with a zeroed header (not a hot
// journal): `db restore` must then work, remove that journal, and leave a database the next
// sync upgrades. A run killed inside a version leaves a hot journal instead, which restore
// still refuses while it is there; reading the database rolls it back.
func TestRestoreAfterKilledSQLiteRun(t *testing.T) {
	t.Parallel()
	const versions = 300
	scripts := map[string]string{}
	for v := 1; v <= versions; v++ {
		scripts[fmt.Sprintf("%03d_v_default_upgrade.sql", v)] = fmt.Sprintf("CREATE TABLE t%d (id INTEGER);\nINSERT INTO t%d VALUES (%d);", v, v, v)
	}
	repo := writeRepo(t, scripts)
	dir := t.TempDir()
	path := filepath.Join(dir, "app.sqlite")
	db := "sqlite:///" + path
	journal := path + "-journal"
	backupFile := filepath.Join(dir, "v1.ratchet-backup")
	runRatchet(t, "--repository", repo, "--database", db, "db", "sync", "1").mustSucceed(t)
	runRatchet(t, "--repository", repo, "--database", db, "db", "backup", "--out", backupFile).mustSucceed(t)

	for attempt := 1; ; attempt++ {
		if attempt > 40 {
			t.Fatal("no kill in 40 attempts left the journal between two versions")
		}
		k := 2 + rand.IntN(100)
		out := newWatchWriter(fmt.Sprintf("%d -> %d ", k, k+1))
		cmd := exec.Command(ratchetBin, "--repository", repo, "--database", db, "db", "sync")
		cmd.Stdout = out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-out.seen:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("db sync did not reach version %d: %s", k+1, out)
		}
		cmd.Process.Kill()
		cmd.Wait()
		data, err := os.ReadFile(journal)
		if err != nil {
			t.Fatalf("after the kill: %v (ratchet's runs keep a PERSIST journal)", err)
		}
		if len(data) > 0 && data[0] != 0 {
			// Killed inside a version: a hot journal, which restore refuses.
			r := runRatchet(t, "--repository", repo, "--database", db, "db", "restore", backupFile, "--yes")
			if r.code == 0 && fileExists(journal) {
				t.Fatalf("restore replaced a database beside a hot journal: %s", r)
			}
			runRatchet(t, "--repository", repo, "--database", db, "db", "version").mustSucceed(t) // rolls it back
			runRatchet(t, "--repository", repo, "--database", db, "db", "restore", backupFile, "--yes").mustSucceed(t)
			continue
		}
		t.Logf("attempt %d: killed after version %d with a zeroed journal of %d bytes", attempt, k+1, len(data))
		r := runRatchet(t, "--repository", repo, "--database", db, "db", "restore", backupFile, "--yes")
		if out := r.mustSucceed(t); !strings.Contains(out, "the database is now at version 1") {
			t.Fatalf("restore printed %q, want the version read from the restored database, 1", out)
		}
		if fileExists(journal) {
			t.Errorf("%s is still there after the restore", journal)
		}
		wantVersion(t, repo, db, 1)
		tables, err := testdb.Strings(testdb.Open(t, db), "SELECT name FROM sqlite_master WHERE name LIKE 't%' ORDER BY name")
		if err != nil || strings.Join(tables, ",") != "t1" {
			t.Fatalf("tables after the restore: %v (%v), want t1 alone", tables, err)
		}
		runRatchet(t, "--repository", repo, "--database", db, "db", "sync").mustSucceed(t)
		wantVersion(t, repo, db, versions)
		return
	}
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// forgedBackup writes a backup file whose manifest and checksums are right but whose payload
// is not a dump the dialect's restore can use: everything restore checks first passes, and
// the restore itself fails.
func forgedBackup(t *testing.T, path, dialectName, repositoryID string) {
	t.Helper()
	payload := []byte("this is not a dump\n")
	names := map[string]string{"sqlite": "payload.sqlite", "postgresql": "payload.pgdump", "mysql": "payload.sql"}
	sum := sha256.Sum256(payload)
	m := &backup.Manifest{Format: backup.Format, Dialect: dialectName, Database: "forged", RepositoryID: repositoryID,
		Version: 1, RatchetVersion: "test", CreatedAt: time.Now().UTC().Truncate(time.Second), Tool: "test",
		Payload: names[dialectName], Size: int64(len(payload)), SHA256: hex.EncodeToString(sum[:])}
	m.ManifestSHA256 = m.Checksum()
	manifest, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range []struct {
		name string
		data []byte
	}{{m.Payload, payload}, {"manifest.json", manifest}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o600, Size: int64(len(e.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestFailedRestoreLeavesNothing restores into a database that does not exist: a backup
// whose restore fails, and a restore whose tools are missing. Neither may leave the
// database behind, nor an SQLite file.
func TestFailedRestoreLeavesNothing(t *testing.T) {
	t.Parallel()
	repo := writeRepo(t, oneVersion)
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			file := filepath.Join(dir, "forged.ratchet-backup")
			forgedBackup(t, file, name, "process_test")
			var target string
			var exists func() bool
			if name == "sqlite" {
				path := filepath.Join(dir, "new.sqlite")
				target, exists = "sqlite:///"+path, func() bool { return fileExists(path) }
			} else {
				admin := testdb.Admin(t, name)
				missing := "ratchet_t_" + randomHex()
				t.Cleanup(func() {
					if err := testdb.Drop(name, missing); err != nil {
						t.Error(err)
					}
				})
				d, _ := dialect.ByName(name)
				target, exists = withDatabase(t, testdb.ServerURL(name), missing), func() bool { return databaseExists(t, admin, d, missing) }
			}

			r := runRatchet(t, "--repository", repo, "--database", target, "db", "restore", file, "--yes")
			line := faultLine(t, r, 1)
			t.Log(line)
			if name != "sqlite" && !strings.Contains(line, "created for the restore was removed") {
				t.Errorf("stderr %q does not say the database created for the restore was removed", line)
			}
			if exists() {
				t.Errorf("the failed restore left %s behind", target)
			}

			if name == "sqlite" {
				return // SQLite restores need no tool
			}
			genuine := filepath.Join(dir, "genuine.ratchet-backup")
			tdb := testdb.New(t, name)
			runRatchet(t, "--repository", repo, "--database", tdb.URL, "db", "sync").mustSucceed(t)
			runRatchet(t, "--repository", repo, "--database", tdb.URL, "db", "backup", "--out", genuine).mustSucceed(t)
			r = runInEnv(t, "", []string{"PATH=" + t.TempDir()}, ratchetBin, "--repository", repo, "--database", target, "db", "restore", genuine, "--yes")
			line = faultLine(t, r, 1)
			t.Log(line)
			if !strings.Contains(line, "not found") {
				t.Errorf("stderr %q does not say the restore tool is missing", line)
			}
			if exists() {
				t.Errorf("a restore refused for a missing tool created %s", target)
			}
		})
	}
}

// TestConcurrentBackupsIntoOneDirectory starts several `db backup --dir D` at once on each
// dialect: all succeed, each under a name of its own, and every file is a complete backup.
func TestConcurrentBackupsIntoOneDirectory(t *testing.T) {
	t.Parallel()
	repo := writeRepo(t, oneVersion)
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tdb := testdb.New(t, name)
			runRatchet(t, "--repository", repo, "--database", tdb.URL, "db", "sync").mustSucceed(t)
			dir := t.TempDir()
			const n = 4
			results := make([]cmdResult, n)
			var wg sync.WaitGroup
			for i := range results {
				wg.Go(func() {
					results[i] = runRatchet(t, "--repository", repo, "--database", tdb.URL, "db", "backup", "--dir", dir)
				})
			}
			wg.Wait()
			paths := map[string]bool{}
			for i, r := range results {
				path := strings.TrimSpace(r.mustSucceed(t))
				if paths[path] {
					t.Errorf("backup %d printed %s, which another backup printed too", i, path)
				}
				paths[path] = true
				if _, err := backup.Verify(path); err != nil {
					t.Errorf("backup %d: %v", i, err)
				}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != n {
				t.Errorf("%s holds %d entries, want the %d backups alone", dir, len(entries), n)
			}

			// The backup db sync --backup-dir takes before upgrading, from runs that start
			// together on a new database: it is taken under the migration lock, once, by the
			// run that applies the versions; the others find nothing to do.
			fresh := testdb.New(t, name)
			syncDir := t.TempDir()
			for i := range results {
				wg.Go(func() {
					results[i] = runRatchet(t, "--repository", repo, "--database", fresh.URL, "db", "sync", "--backup-dir", syncDir)
				})
			}
			wg.Wait()
			printed := 0
			for _, r := range results {
				out := r.mustSucceed(t)
				for _, line := range strings.Split(out, "\n") {
					if path, ok := strings.CutPrefix(line, "backup of version 0 written to "); ok {
						printed++
						if _, err := backup.Verify(path); err != nil {
							t.Error(err)
						}
					}
				}
			}
			if entries, err = os.ReadDir(syncDir); err != nil || len(entries) != 1 || printed != 1 {
				t.Errorf("%s holds %d entries (%v) for %d backups reported", syncDir, len(entries), err, printed)
			}
		})
	}
}
