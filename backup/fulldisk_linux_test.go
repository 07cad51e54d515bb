package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/testdb"
)

// smallDisk mounts a 64 KiB tmpfs for the test, or skips it loudly when mounting is not
// permitted (it needs root).
func smallDisk(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("SKIPPING FULL-DISK TEST: cannot mount a 64 KiB tmpfs on %s: %v (run the tests as root to cover a full disk)", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	return dir
}

// TestCreateFullDisk fills a small disk while writing backups: each fails with a clear error,
// leaves no file behind, and leaves the backup already there untouched.
func TestCreateFullDisk(t *testing.T) {
	ctx := context.Background()
	dir := smallDisk(t)
	old := filepath.Join(dir, "old"+Extension)
	if err := os.WriteFile(old, []byte("an earlier backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	// SQLite: the snapshot taken with VACUUM INTO does not fit.
	tdb := testdb.New(t, "sqlite")
	execAll(t, tdb.DB, "CREATE TABLE big (x TEXT)")
	for range 60 {
		execAll(t, tdb.DB, "INSERT INTO big VALUES (hex(randomblob(1024)))")
	}
	path := filepath.Join(dir, "new"+Extension)
	_, err := Create(ctx, target(t, tdb.URL, tdb.DB), path, Info{RepositoryID: "repo"})
	if err == nil || !strings.Contains(err.Error(), "disk is full") || !strings.Contains(err.Error(), path) {
		t.Errorf("SQLite: err = %v, want an error naming %s and saying the disk is full", err, path)
	}
	assertOnlyEntries(t, dir, "old"+Extension)

	// A dump whose output does not fit: the error is the disk's, not that of the tool, which
	// dies of the closed pipe.
	fakeTools(t, map[string]string{"pg_dump": `
if [ "$1" = --version ]; then echo "pg_dump (PostgreSQL) 15.2"; exit 0; fi
i=0
while [ $i -lt 300 ]; do printf '%01000d' 0; i=$((i+1)); done
`})
	path = filepath.Join(dir, "pg"+Extension)
	_, err = Create(ctx, Database{Dialect: dialect.Postgres, Name: "glance"}, path, Info{RepositoryID: "repo"})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("pg_dump to a full disk: err = %v, want ENOSPC", err)
	}
	assertOnlyEntries(t, dir, "old"+Extension)
	if data, _ := os.ReadFile(old); string(data) != "an earlier backup" {
		t.Errorf("the earlier backup now holds %q", data)
	}
}
