package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/cli"
	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/lock"
	"github.com/ratchetdb/ratchet/internal/testdb"
)

// The tests in this file break the database server under ratchet: unreachable, wrong
// password, no right to create the database, a migration lock that never frees, a server that
// dies in the middle of a run. Each time ratchet must write one line to stderr, exit with the
// documented code, never show a password, and leave the database at a consistent version.

// serverDialects are the dialects whose servers can fail.
var serverDialects = []string{"postgresql", "mysql"}

// oneVersion is a repository with a single quick version.
var oneVersion = map[string]string{"001_first_default_upgrade.sql": "CREATE TABLE first (id INTEGER);"}

// TestFaultUnreachableServer points ratchet at a closed port with a password in the URL.
func TestFaultUnreachableServer(t *testing.T) {
	t.Parallel()
	repo, _ := faultRepo(t, oneVersion)
	secret := "Unreachable-" + randomHex()
	urls := map[string]string{
		"postgresql": "postgresql://ratchet:" + secret + "@127.0.0.1:1/ratchet_fault?sslmode=disable",
		"mysql":      "mysql://ratchet:" + secret + "@127.0.0.1:1/ratchet_fault",
	}
	for _, name := range serverDialects {
		for _, command := range []string{"sync", "version"} {
			t.Run(name+"/"+command, func(t *testing.T) {
				t.Parallel()
				line := faultLine(t, runRatchet(t, "--repository", repo, "--database", urls[name], "db", command), cli.ExitFailed, secret)
				for _, want := range []string{"ratchet:xxxxx@127.0.0.1:1", "refused"} {
					if !strings.Contains(line, want) {
						t.Errorf("stderr %q does not contain %q", line, want)
					}
				}
			})
		}
	}
}

// TestFaultWrongPassword connects as an existing user with a wrong password. The shared
// PostgreSQL server trusts every local connection, so the PostgreSQL case runs on a private
// server that checks passwords.
func TestFaultWrongPassword(t *testing.T) {
	t.Parallel()
	repo, _ := faultRepo(t, oneVersion)
	good, bad := "Good-"+randomHex(), "Bad-"+randomHex()
	t.Run("postgresql", func(t *testing.T) {
		t.Parallel()
		s := testdb.NewServer(t, "postgresql")
		tdb := s.NewDB(t)
		checkWrongPassword(t, repo, tdb.URL, s.User, s.Password, bad, "password authentication failed")
	})
	t.Run("mysql", func(t *testing.T) {
		t.Parallel()
		tdb := testdb.New(t, "mysql")
		user := "ratchet_pw_" + randomHex()
		createMySQLUser(t, user, good)
		grant(t, tdb.Name, user)
		checkWrongPassword(t, repo, tdb.URL, user, good, bad, "Access denied for user '"+user+"'")
	})
}

// checkWrongPassword runs db version on dbURL as user with the wrong password, then the good
// one, which must work.
func checkWrongPassword(t *testing.T, repo, dbURL, user, good, bad, want string) {
	t.Helper()
	line := faultLine(t, runRatchet(t, "--repository", repo, "--database", withUser(t, dbURL, user, bad), "db", "version"), cli.ExitFailed, good, bad)
	if !strings.Contains(line, want) || !strings.Contains(line, user+":xxxxx@") {
		t.Errorf("stderr %q does not say %q about %s:xxxxx@…", line, want, user)
	}
	code, out, errOut := ratchet(t, "--repository", repo, "--database", withUser(t, dbURL, user, good), "db", "version")
	if code != cli.ExitOK || strings.TrimSpace(out) != "0" {
		t.Errorf("with the right password, db version exited %d: %q %q", code, out, errOut)
	}
}

// TestFaultMissingDatabase runs db sync on a database that does not exist, as a user who may
// not create it, then as the superuser, who may.
func TestFaultMissingDatabase(t *testing.T) {
	t.Parallel()
	repo, _ := faultRepo(t, oneVersion)
	for _, name := range serverDialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			admin := testdb.Admin(t, name)
			d, _ := dialect.ByName(name)
			user, password := "ratchet_nc_"+randomHex(), "Nc-"+randomHex()
			// Each case names what the message must say.
			var wants []string
			switch name {
			case "postgresql":
				mustExec(t, admin, "CREATE ROLE "+user+" LOGIN NOCREATEDB PASSWORD '"+password+"'")
				t.Cleanup(func() { mustExec(t, admin, "DROP ROLE IF EXISTS "+user) })
				wants = []string{"cannot be created", "permission denied to create database"}
			case "mysql":
				createMySQLUser(t, user, password)
				grant(t, testdb.New(t, name).Name, user)
				// MariaDB refuses the connection before ratchet can tell whether the database
				// exists: it says access to it is denied.
				wants = []string{"Access denied for user '" + user + "'"}
			}
			missing := "ratchet_t_" + randomHex()
			t.Cleanup(func() {
				if err := testdb.Drop(name, missing); err != nil {
					t.Error(err)
				}
			})
			dbURL := withDatabase(t, testdb.ServerURL(name), missing)
			line := faultLine(t, runRatchet(t, "--repository", repo, "--database", withUser(t, dbURL, user, password), "db", "sync"), cli.ExitFailed, password)
			for _, want := range append(wants, missing) {
				if !strings.Contains(line, want) {
					t.Errorf("stderr %q does not contain %q", line, want)
				}
			}
			if databaseExists(t, admin, d, missing) {
				t.Fatalf("database %s was created by a user without the right to", missing)
			}

			code, out, errOut := ratchet(t, "--repository", repo, "--database", dbURL, "db", "sync")
			if code != cli.ExitOK || !strings.Contains(out, fmt.Sprintf("created database %q", missing)) {
				t.Fatalf("db sync as superuser exited %d, stdout %q, stderr %q; want exit 0 and `created database %q`", code, out, errOut, missing)
			}
			if !databaseExists(t, admin, d, missing) {
				t.Fatalf("db sync reported creating %s, which does not exist", missing)
			}
			wantVersion(t, repo, dbURL, 1)
		})
	}
}

// TestFaultLockNeverFrees holds the migration lock for the whole run: db sync gives up after
// --lock-timeout, names the holder and changes nothing; once the lock is free, it succeeds.
func TestFaultLockNeverFrees(t *testing.T) {
	t.Parallel()
	repo, id := faultRepo(t, oneVersion)
	for _, name := range serverDialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tdb := testdb.New(t, name)
			ctx := context.Background()
			holderConn, err := tdb.DB.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer holderConn.Close()
			l, err := lock.Acquire(ctx, holderConn, tdb.Dialect, id, time.Second)
			if err != nil {
				t.Fatalf("taking the lock: %v", err)
			}
			defer func() { l.Release(ctx) }() // a nil *Lock once released below
			holder := lockHolder(t, tdb, id)

			start := time.Now()
			r := runRatchet(t, "--repository", repo, "--database", tdb.URL, "--lock-timeout", "2s", "db", "sync")
			took := time.Since(start)
			line := faultLine(t, r, cli.ExitFailed)
			if took < 2*time.Second || took > 15*time.Second {
				t.Errorf("db sync gave up after %v, want a little over its 2s lock timeout", took)
			}
			for _, want := range []string{"another process is migrating", holder} {
				if !strings.Contains(line, want) {
					t.Errorf("stderr %q does not contain %q", line, want)
				}
			}
			if tables := listTables(t, tdb.DB, tdb.Dialect); len(tables) != 0 {
				t.Errorf("db sync without the lock changed the database: tables %v", tables)
			}

			if err := l.Release(ctx); err != nil {
				t.Fatal(err)
			}
			l = nil
			code, out, errOut := ratchet(t, "--repository", repo, "--database", tdb.URL, "--lock-timeout", "2s", "db", "sync")
			if code != cli.ExitOK {
				t.Fatalf("db sync after the lock was released exited %d: %s %s", code, out, errOut)
			}
			wantVersion(t, repo, tdb.URL, 1)
		})
	}
}

// lockHolder returns how ratchet names the session holding the repository's lock:
// "pid N" on PostgreSQL, "connection N" on MariaDB.
func lockHolder(t *testing.T, tdb *testdb.DB, repositoryID string) string {
	t.Helper()
	var id int64
	if tdb.Dialect == dialect.Postgres {
		err := tdb.DB.QueryRow(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&id)
		if err != nil {
			t.Fatalf("finding the lock holder: %v", err)
		}
		return "pid " + strconv.FormatInt(id, 10) + " "
	}
	// GET_LOCK names are derived in SQL from the key and the database: ask with the
	// dialect's own holder query.
	var holder string
	err := tdb.DB.QueryRow(tdb.Dialect.Lock().Holder, lock.Key(tdb.Dialect.Lock(), repositoryID)).Scan(&holder)
	if err != nil {
		t.Fatalf("finding the lock holder: %v", err)
	}
	connection, _, _ := strings.Cut(holder, " as ")
	return connection + " "
}

// restartScripts is a repository whose version 4 sleeps for 30 s, long enough to stop the
// server under it. On MariaDB, where a version runs statement by statement, version 4's
// CREATE TABLE commits on its own before the sleep; the INSERT shares the sleep's
// transaction. Nothing in it can run twice without failing.
func restartScripts(name string, sleep bool) map[string]string {
	scripts := map[string]string{
		"001_marks_default_upgrade.sql": "CREATE TABLE marks (version INTEGER NOT NULL);\nINSERT INTO marks VALUES (1);",
		"002_two_default_upgrade.sql":   "CREATE TABLE t2 (id INTEGER);\nINSERT INTO marks VALUES (2);",
		"003_three_default_upgrade.sql": "INSERT INTO marks VALUES (3);",
	}
	long := map[string]string{
		"postgresql": "CREATE TABLE t4 (id INTEGER);\nINSERT INTO marks VALUES (4);\n",
		"mysql":      "CREATE TABLE t4 (id INTEGER);\nINSERT INTO marks VALUES (4);\n",
	}[name]
	if sleep {
		long += map[string]string{"postgresql": "SELECT pg_sleep(30);\n", "mysql": "SELECT SLEEP(30);\n"}[name]
	}
	scripts["004_long_"+name+"_upgrade.sql"] = long
	return scripts
}

// sleeping counts the sessions running version 4's sleep.
var sleeping = map[string]string{
	// A version's statements reach PostgreSQL as one query: look for the sleep inside it.
	"postgresql": "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%SELECT pg_sleep(30)%' AND pid <> pg_backend_pid()",
	"mysql":      "SELECT count(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(30)%'",
}

// TestFaultServerRestart kills a private server while version 4 runs: ratchet fails with one
// line, the database is at version 3 after the restart with nothing of version 4 committed
// as applied, and the next run completes with every version's effect present exactly once.
func TestFaultServerRestart(t *testing.T) {
	t.Parallel()
	for _, name := range serverDialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := testdb.NewServer(t, name)
			tdb := s.NewDB(t)
			repo, id := faultRepo(t, restartScripts(name, true))

			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, ratchetBin, "--repository", repo, "--database", tdb.URL, "db", "sync")
			stdout := newWatchWriter("2 -> 3 ")
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-stdout.seen:
			case <-time.After(30 * time.Second):
				cancel()
				cmd.Wait()
				t.Fatalf("version 3 was not reported applied within 30s: stdout %q, stderr %q", stdout.String(), stderr.String())
			}
			waitFor(t, tdb.DB, sleeping[name])
			s.Kill(t)
			code := exitCodeOf(t, cmd.Wait())
			line := faultLine(t, cmdResult{code: code, stdout: stdout.String(), stderr: stderr.String()}, cli.ExitFailed, s.Password)
			t.Logf("after the crash: %s", line)
			if !strings.Contains(line, "004_long_"+name+"_upgrade.sql") {
				t.Errorf("stderr %q does not name the script that was running", line)
			}
			if !strings.Contains(strings.ToLower(line), "connection") {
				t.Errorf("stderr %q does not say that the connection to the server was lost", line)
			}

			s.Start(t)
			db := testdb.Open(t, tdb.URL)
			wantVersion(t, repo, tdb.URL, 3)
			marks := ints(t, db, "SELECT version FROM marks ORDER BY version")
			if !slices.Equal(marks, []int{1, 2, 3}) {
				t.Errorf("marks after the crash = %v, want [1 2 3]: version 4's INSERT must roll back", marks)
			}
			// PostgreSQL rolls back the whole version; on MariaDB the DDL committed.
			if hasT4 := slices.Contains(listTables(t, db, tdb.Dialect), "t4"); hasT4 != (name == "mysql") {
				t.Errorf("table t4 exists: %v after the crash", hasT4)
			}

			// Version 4 without its sleep.
			v4 := "004_long_" + name + "_upgrade.sql"
			if err := os.WriteFile(filepath.Join(repo, "versions", v4), []byte(restartScripts(name, false)[v4]), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"--repository", repo, "--database", tdb.URL, "db", "sync"}
			if name == "mysql" {
				// The run stopped part way through version 4: ratchet asks which way to go on.
				line := faultLine(t, runRatchet(t, args...), cli.ExitFailed)
				// The journal is exact: the CREATE TABLE is recorded as applied, the INSERT
				// was rolled back with its transaction, and --resume runs only the INSERT.
				for _, want := range []string{"version 4 was interrupted after statement 1 of 3", "--resume", "--retry"} {
					if !strings.Contains(line, want) {
						t.Errorf("stderr %q does not contain %q", line, want)
					}
				}
				args = append(args, "--resume")
			}
			if code, out, errOut := ratchet(t, args...); code != cli.ExitOK {
				t.Fatalf("%s exited %d: %s %s", strings.Join(args[4:], " "), code, out, errOut)
			}
			wantVersion(t, repo, tdb.URL, 4)
			if got := ints(t, db, "SELECT version FROM marks ORDER BY version"); !slices.Equal(got, []int{1, 2, 3, 4}) {
				t.Errorf("marks = %v, want each version's mark once: [1 2 3 4]", got)
			}
			history := ints(t, db, "SELECT version FROM ratchet_history WHERE repository_id = "+tdb.Dialect.Param(1)+" ORDER BY version", id)
			if !slices.Equal(history, []int{1, 2, 3, 4}) {
				t.Errorf("history versions = %v, want [1 2 3 4]", history)
			}
			if !slices.Contains(listTables(t, db, tdb.Dialect), "t4") {
				t.Error("table t4 of version 4 missing after the upgrade")
			}
		})
	}
}

// faultRepo writes a repository like writeRepo, with a repository id of its own so that its
// migration lock (MariaDB's GET_LOCK is server-wide) is never another test's.
func faultRepo(t *testing.T, scripts map[string]string) (dir, id string) {
	t.Helper()
	dir = writeRepo(t, scripts)
	id = "fault_" + randomHex()
	cfg := "[db_settings]\nrepository_id=" + id + "\nversion_table=migrate_version\n"
	if err := os.WriteFile(filepath.Join(dir, "migrate.cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, id
}

// faultLine checks a failed ratchet run: it exited with want, wrote one line "ratchet: …"
// to stderr, and none of the secrets appears in its output. It returns the (last) line. Output on
// stdout before the failure is allowed: a run reports the versions it applied.
func faultLine(t *testing.T, r cmdResult, want int, secrets ...string) string {
	t.Helper()
	if r.code != want {
		t.Errorf("ratchet exited %d, want %d; stderr %q", r.code, want, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	line := lines[len(lines)-1]
	if len(lines) != 1 || !strings.HasPrefix(line, "ratchet: ") {
		t.Errorf("stderr is not one line `ratchet: …`: %q", r.stderr)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("the password %q appears in ratchet's output: stdout %q, stderr %q", s, r.stdout, r.stderr)
		}
	}
	return line
}

// wantVersion checks what `ratchet db version` prints.
func wantVersion(t *testing.T, repo, dbURL string, want int) {
	t.Helper()
	code, out, errOut := ratchet(t, "--repository", repo, "--database", dbURL, "db", "version")
	if code != cli.ExitOK || strings.TrimSpace(out) != strconv.Itoa(want) {
		t.Errorf("db version printed %q (exit %d, stderr %q), want %d", out, code, errOut, want)
	}
}

// withUser returns dbURL with other credentials.
func withUser(t *testing.T, dbURL, user, password string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(user, password)
	return u.String()
}

// withDatabase returns dbURL naming another database.
func withDatabase(t *testing.T, dbURL, name string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// createMySQLUser creates a MariaDB user that may connect from anywhere, dropped when the
// test ends.
func createMySQLUser(t *testing.T, user, password string) {
	t.Helper()
	admin := testdb.Admin(t, "mysql")
	mustExec(t, admin, "CREATE USER '"+user+"'@'%' IDENTIFIED BY '"+password+"'")
	t.Cleanup(func() { mustExec(t, admin, "DROP USER IF EXISTS '"+user+"'@'%'") })
}

// grant gives a MariaDB user every right on one database.
func grant(t *testing.T, database, user string) {
	t.Helper()
	mustExec(t, testdb.Admin(t, "mysql"), "GRANT ALL ON `"+database+"`.* TO '"+user+"'@'%'")
}

// mustExec runs a statement, failing the test if it fails.
func mustExec(t *testing.T, db *sql.DB, stmt string) {
	t.Helper()
	if _, err := db.Exec(stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// databaseExists reports whether the server has a database of that name.
func databaseExists(t *testing.T, admin *sql.DB, d dialect.Dialect, name string) bool {
	t.Helper()
	query := "SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?"
	if d == dialect.Postgres {
		query = "SELECT count(*) FROM pg_database WHERE datname = $1"
	}
	var n int
	if err := admin.QueryRow(query, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// listTables returns the tables of the connection's database.
func listTables(t *testing.T, db *sql.DB, d dialect.Dialect) []string {
	t.Helper()
	schema, err := testdb.Strings(db, d.CurrentSchema())
	if err != nil || len(schema) != 1 {
		t.Fatalf("reading the current schema: %v", err)
	}
	names, err := testdb.Strings(db, d.ListTables(), schema[0])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// ints runs a query returning one integer column.
func ints(t *testing.T, db *sql.DB, query string, args ...any) []int {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitFor polls a count query until it returns a positive number, for up to 10 s.
func waitFor(t *testing.T, db *sql.DB, query string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := db.QueryRow(query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still 0 after 20s: %s", query)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// exitCodeOf returns the exit code of a finished process, failing the test if it was killed.
func exitCodeOf(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() < 0 {
		t.Fatalf("ratchet did not exit by itself: %v", err)
	}
	return ee.ExitCode()
}

// watchWriter collects a process's output and closes seen once a line starts with want.
type watchWriter struct {
	want string
	seen chan struct{}
	once sync.Once
	mu   sync.Mutex
	buf  bytes.Buffer
}

func newWatchWriter(want string) *watchWriter {
	return &watchWriter{want: want, seen: make(chan struct{})}
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains("\n"+w.buf.String(), "\n"+w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func randomHex() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
