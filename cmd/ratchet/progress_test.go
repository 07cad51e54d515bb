package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/creack/pty"
)

// slowRepo writes a repository whose version 1 runs for seconds on SQLite (two statements
// that each take long enough on a fast machine for the live line to appear), statement
// by statement (a no-transaction script), and whose version 2 is quick.
func slowRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	slow := "CREATE TABLE big%d AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 6000000) SELECT x FROM c;\n"
	files := map[string]string{
		"migrate.cfg": "[db_settings]\nrepository_id=progress\n",
		"versions/001_slow_default_upgrade.sql": "-- ratchet:no-transaction\nCREATE TABLE t1 (id INTEGER);\n" +
			strings.ReplaceAll(slow, "%d", "1") + strings.ReplaceAll(slow, "%d", "2"),
		"versions/002_quick_default_upgrade.sql": "CREATE TABLE t2 (id INTEGER);\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runInTerminal runs the binary with stdout and stderr on a pseudo-terminal and returns
// everything written there.
func runInTerminal(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(ratchetBin, args...)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var out bytes.Buffer
	_, err = io.Copy(&out, tty)
	// Reading the terminal ends with EIO once the child has exited and closed its side.
	if err != nil && !errors.Is(err, syscall.EIO) {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ratchet %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// TestProgressOnTerminal checks the live line of a long version under a pseudo-terminal:
// it names the version, its script and the statement running, counts the seconds, and is
// erased before the version's final line, which reads as it does without a terminal.
func TestProgressOnTerminal(t *testing.T) {
	repo := slowRepo(t)
	db := "sqlite:///" + filepath.Join(t.TempDir(), "app.sqlite")
	out := runInTerminal(t, "--repository", repo, "--database", db, "db", "sync")

	live := regexp.MustCompile(`\r\S+ version 1  versions/001_slow_default_upgrade\.sql  statement ([23]) of 3  ([0-9]+)s `)
	m := live.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		t.Fatalf("no live line for the slow version in:\n%q", out)
	}
	if last := m[len(m)-1]; last[1] != "3" || last[2] == "0" {
		t.Errorf("last live line %q: want statement 3 of 3 after at least a second", last[0])
	}
	final := "0 -> 1  versions/001_slow_default_upgrade.sql  (3 statements, "
	i := strings.Index(out, final)
	if i < 0 {
		t.Fatalf("no final line for version 1 in:\n%q", out)
	}
	if !strings.HasSuffix(out[:i], "\x1b[2K\r") {
		t.Errorf("the live line is not erased before the final line: %q", out[max(0, i-40):i+len(final)])
	}
	if strings.Contains(out[i:], "version 1  versions/") {
		t.Errorf("a live line of version 1 was drawn after its final line: %q", out[i:])
	}
	// A quick version gets no live line.
	if strings.Contains(out, "version 2  versions/002") {
		t.Errorf("a live line for the quick version 2: %q", out)
	}
	if !strings.Contains(out, "1 -> 2  versions/002_quick_default_upgrade.sql  (1 statement, ") ||
		!strings.Contains(out, "database upgraded from version 0 to 2") {
		t.Errorf("final lines missing: %q", out)
	}
}

// TestProgressNotOnTerminal checks that without a terminal, and with --output json on one,
// the output has no live line and no control characters.
func TestProgressNotOnTerminal(t *testing.T) {
	repo := slowRepo(t)
	dir := t.TempDir()
	cmd := exec.Command(ratchetBin, "--repository", repo, "--database", "sqlite:///"+filepath.Join(dir, "a.sqlite"), "db", "sync")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := regexp.MustCompile(`^database was empty: put under version control at version 0
0 -> 1  versions/001_slow_default_upgrade.sql  \(3 statements, [0-9.]+s\)
1 -> 2  versions/002_quick_default_upgrade.sql  \(1 statement, [0-9.]+(µs|ms)\)
database upgraded from version 0 to 2
$`)
	if !want.Match(out) {
		t.Errorf("output without a terminal:\n%q", out)
	}

	js := runInTerminal(t, "--repository", repo, "--database", "sqlite:///"+filepath.Join(dir, "b.sqlite"), "--output", "json", "db", "sync")
	if strings.ContainsAny(js, "\x1b") || strings.Contains(js, "version 1  versions/") {
		t.Errorf("--output json on a terminal drew a live line: %q", js)
	}
	if !strings.Contains(js, `"duration_ms": `) {
		t.Errorf("--output json on a terminal: no JSON document in %q", js)
	}
}
