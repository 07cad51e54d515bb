package main

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	_ "modernc.org/sqlite"

	"github.com/ratchetdb/ratchet/internal/testdb"
	"github.com/ratchetdb/ratchet/internal/testenv"
)

// ratchetBin is the ratchet binary built once by TestMain; every scenario runs it as a user
// does.
var ratchetBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ratchet-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ratchetBin = filepath.Join(dir, "ratchet")
	build := exec.Command("go", "build", "-o", ratchetBin, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building ratchet:", err)
		return 1
	}
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPROXY").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go env:", err)
		return 1
	}
	vals := strings.Split(strings.TrimSpace(string(out)), "\n")
	goEnv = map[string]string{"GOCACHE": vals[0], "GOMODCACHE": vals[1], "GOPROXY": vals[2]}
	code := testenv.Main(m)
	if err := testdb.StopSharedCluster(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the galera cluster:", err)
		code = 1
	}
	return code
}

// goEnv holds the Go settings passed to scenarios that run the go command.
var goEnv map[string]string

// TestScripts runs the CLI scenarios in testdata/script/*.txtar against the built binary.
func TestScripts(t *testing.T) {
	testscript.Run(t, scriptParams(filepath.Join("..", "..", "testdata", "script")))
}

func scriptParams(dir string) testscript.Params {
	return testscript.Params{
		Dir: dir,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", filepath.Dir(ratchetBin)+string(os.PathListSeparator)+env.Getenv("PATH"))
			// The corpus repositories shared by several scenarios.
			abs, err := filepath.Abs(filepath.Join("..", "..", "testdata"))
			if err != nil {
				return err
			}
			env.Setenv("TESTDATA", abs)
			env.Setenv("MODROOT", filepath.Dir(abs))
			// Scenarios that build the example binary need the Go caches.
			for k, v := range goEnv {
				env.Setenv(k, v)
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":    cmdExitcode,
			"sqlite":      cmdSQLite,
			"sqlite-exec": cmdSQLiteExec,
		},
	}
}

// cmdExitcode runs a command and checks its exit code: `exitcode 2 ratchet db upgrade 99`.
// Its stdout and stderr are kept for the following stdout/stderr assertions.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode CODE command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: bad code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", strings.Join(args[1:], " "), got, want)
	}
}

// cmdSQLite runs a query on an SQLite file and prints the rows, one per line with
// tab-separated columns, to stdout: `sqlite glance.sqlite 'SELECT version FROM migrate_version'`.
func cmdSQLite(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: sqlite FILE QUERY")
	}
	path := ts.MkAbs(args[0])
	if _, err := os.Stat(path); err != nil {
		ts.Fatalf("sqlite: %v", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	ts.Check(err)
	defer db.Close()
	out, err := queryText(db, args[1])
	if neg {
		if err == nil {
			ts.Fatalf("sqlite: query succeeded unexpectedly")
		}
		ts.Logf("sqlite: %v", err)
		return
	}
	ts.Check(err)
	ts.Stdout().Write([]byte(out))
}

// cmdSQLiteExec runs statements on an SQLite file, creating it if needed:
// `sqlite-exec legacy.db 'CREATE TABLE images (id INTEGER)'`.
func cmdSQLiteExec(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sqlite-exec FILE SQL")
	}
	db, err := sql.Open("sqlite", "file:"+ts.MkAbs(args[0]))
	ts.Check(err)
	defer db.Close()
	_, err = db.Exec(args[1])
	ts.Check(err)
}

// queriesText runs queries and returns their rows as text, each query's followed by a "--"
// line.
func queriesText(t *testing.T, db *sql.DB, queries []string) string {
	t.Helper()
	var b strings.Builder
	for _, q := range queries {
		out, err := queryText(db, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		b.WriteString(out)
		b.WriteString("--\n")
	}
	return b.String()
}

// queryText runs query and formats the rows as text.
func queryText(db *sql.DB, query string) (string, error) {
	rows, err := db.Query(query)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		for i, v := range vals {
			if i > 0 {
				b.WriteByte('\t')
			}
			switch v := v.(type) {
			case nil:
				b.WriteString("NULL")
			case []byte:
				b.Write(v)
			default:
				fmt.Fprint(&b, v)
			}
		}
		b.WriteByte('\n')
	}
	return b.String(), rows.Err()
}
