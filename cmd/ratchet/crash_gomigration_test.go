package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// TestCrashKillGoMigration kills the example service's manage command on MySQL/MariaDB while
// its Go migration (version 7, a backfill of image_locations) runs. The migration's effects
// and its bookkeeping commit together, so the kill leaves none of the backfill and the
// journal of version 7 with nothing applied; a plain `db sync` refuses, and `db sync
// --resume` runs the migration again, once: every image gets exactly one location row.
func TestCrashKillGoMigration(t *testing.T) {
	t.Parallel()
	const images = 5000
	tdb := testdb.New(t, "mysql")
	bin := filepath.Join(t.TempDir(), "imagesvc-manage")
	build := exec.Command("go", "build", "-o", bin, "./examples/imagesvc/cmd/imagesvc-manage")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the example: %v\n%s", err, out)
	}
	manage := func(args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--database", tdb.URL}, args...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if err != nil {
			ee, ok := err.(*exec.ExitError)
			if !ok {
				t.Fatal(err)
			}
			code = ee.ExitCode()
		}
		return code, stdout.String(), stderr.String()
	}
	if code, stdout, stderr := manage("db", "sync", "6"); code != 0 {
		t.Fatalf("db sync 6 exited %d\nstdout:\n%sstderr:\n%s", code, stdout, stderr)
	}
	if _, err := tdb.DB.Exec(`INSERT INTO images (id, name, status, is_public, location, created_at, deleted)
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100)
SELECT concat('i', a.x * 1000 + b.x), 'img', 'active', 0, concat('swift://swift.example.com/v1/glance/i', a.x * 1000 + b.x), '2024-01-01', 0
FROM c a, c b WHERE a.x <= 50`); err != nil {
		t.Fatal(err)
	}

	// Kill once the backfill's first rows, not yet committed, are there.
	peek, err := tdb.DB.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer peek.Close()
	if _, err := peek.ExecContext(context.Background(), "SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--database", tdb.URL, "db", "sync", "7")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := peek.QueryRowContext(context.Background(), "SELECT count(*) FROM image_locations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no backfill row 20 s after the start\nstdout:\n%sstderr:\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && err != os.ErrProcessDone {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("db sync ended before the kill\nstdout:\n%sstderr:\n%s", stdout.String(), stderr.String())
	}
	c := &crashTest{t: t, name: "mysql", tdb: tdb}
	c.quiesce(crashRun{args: cmd.Args})

	locations := func() (rows, distinct int) {
		t.Helper()
		if err := tdb.DB.QueryRow("SELECT count(*), count(DISTINCT image_id) FROM image_locations").Scan(&rows, &distinct); err != nil {
			t.Fatal(err)
		}
		return rows, distinct
	}
	var version, done, running int
	if err := tdb.DB.QueryRow("SELECT version FROM migrate_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if err := tdb.DB.QueryRow("SELECT done, running FROM ratchet_journal WHERE version = 7").Scan(&done, &running); err != nil {
		t.Fatalf("reading the journal of version 7: %v", err)
	}
	if rows, _ := locations(); version != 6 || rows != 0 || done != 0 || running != 0 {
		t.Fatalf("after the kill: version %d, %d backfilled rows, journal of version 7 with %d applied and %d running; want version 6, no row, nothing applied or running",
			version, rows, done, running)
	}

	code, out, errOut := manage("db", "sync", "7")
	if code != 1 || !strings.Contains(errOut, "version 7 was interrupted after statement 0 of 1 (go:backfill_image_locations)") || !strings.Contains(errOut, "`db sync --resume`") {
		t.Fatalf("db sync after the kill exited %d, want 1 with version 7 interrupted before anything was applied and the --resume choice\nstdout:\n%sstderr:\n%s", code, out, errOut)
	}
	if code, out, errOut := manage("db", "sync", "7", "--resume"); code != 0 {
		t.Fatalf("db sync --resume exited %d\nstdout:\n%sstderr:\n%s", code, out, errOut)
	}
	var runs int
	if err := tdb.DB.QueryRow("SELECT version FROM migrate_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if err := tdb.DB.QueryRow("SELECT count(*) FROM ratchet_history WHERE version = 7").Scan(&runs); err != nil {
		t.Fatal(err)
	}
	if rows, distinct := locations(); version != 7 || runs != 1 || rows != images || distinct != images {
		t.Errorf("after db sync --resume: version %d, %d history rows for version 7, %d location rows for %d images; want version 7, 1 history row, one row for each of the %d images",
			version, runs, rows, distinct, images)
	}
}
