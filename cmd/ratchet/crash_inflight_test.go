package main

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// TestCrashKillInFlightStatement kills `ratchet db sync` while a statement that commits by
// itself runs on the database: a slow CREATE TABLE … AS SELECT, the second of four statements
// of a journalled version (DDL on MySQL/MariaDB; a no-transaction script on PostgreSQL and
// SQLite). The journal must say exactly that statement 1 is applied and statement 2 was in
// flight; a plain `db sync` and a plain `db sync --resume` must refuse, naming statement 2
// and the choices, and change nothing; then the choice the schema shows (does table slow
// exist?) must complete the version with every statement applied exactly once.
func TestCrashKillInFlightStatement(t *testing.T) {
	const rest = "CREATE TABLE b (id INTEGER);\nINSERT INTO a (id) VALUES (1);\n"
	for _, tc := range []struct {
		dialect, script string
		running         string // a query counting the sessions that run the slow statement; "" for SQLite
		slowRows        int
	}{
		{
			dialect: "mysql", slowRows: 1,
			script:  "CREATE TABLE a (id INTEGER);\nCREATE TABLE slow AS SELECT SLEEP(1) AS x;\n" + rest,
			running: "SELECT count(*) FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID() AND info LIKE '%CREATE TABLE slow%'",
		},
		{
			dialect: "postgresql", slowRows: 1,
			script:  "-- ratchet:no-transaction\nCREATE TABLE a (id INTEGER);\nCREATE TABLE slow AS SELECT 1 AS x FROM pg_sleep(1);\n" + rest,
			running: "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE 'CREATE TABLE slow%'",
		},
		{
			dialect: "sqlite", slowRows: 4000000,
			script: "-- ratchet:no-transaction\nCREATE TABLE a (id INTEGER);\n" +
				"CREATE TABLE slow AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 4000000) SELECT x FROM c;\n" + rest,
		},
	} {
		t.Run(tc.dialect, func(t *testing.T) {
			t.Parallel()
			script := fmt.Sprintf("versions/002_slow_%s_upgrade.sql", tc.dialect)
			repo := writeRepo(t, map[string]string{
				"001_quick_default_upgrade.sql":         "CREATE TABLE quick (id INTEGER);",
				strings.TrimPrefix(script, "versions/"): tc.script,
			})
			c := &crashTest{t: t, name: tc.dialect, repo: repo, tdb: testdb.New(t, tc.dialect)}
			// Kill during statement 2 of version 2: once version 1 is reported applied and,
			// on a server, once the server runs the statement.
			cmd, stdout, stderr := startPastFirstVersion(t, c.args("db", "sync")...)
			if tc.running != "" {
				waitFor(t, c.tdb.DB, tc.running)
			} else {
				// A reader would wait for SQLite's writer: leave statement 1 and its journal
				// commits time to finish (statement 2 takes seconds).
				time.Sleep(200 * time.Millisecond)
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err == nil {
				t.Fatalf("db sync ended before the kill\nstdout:\n%sstderr:\n%s", stdout.String(), stderr.String())
			}
			c.quiesce(crashRun{args: cmd.Args})

			before := inFlightState(t, c.tdb)
			want := inFlightSnapshot{Version: 1, Journal: "version 2, done 1 of 4, running 2, error NULL", Rows: map[string]int{"a": 0, "quick": 0}}
			took := slices.Contains(before.Tables(), "slow")
			if took {
				want.Rows["slow"] = tc.slowRows
			}
			if d := cmp.Diff(want, before); d != "" {
				t.Fatalf("after the kill during statement 2 of version 2 (-want +got):\n%s", d)
			}
			t.Logf("statement 2 took effect: %v", took)

			prefix := fmt.Sprintf("ratchet: version 2 was interrupted while statement 2 of 4 (%s) was running; it commits by itself, so it may or may not have taken effect; statement 1 stays applied; ", script)
			choices := "check whether statement 2 took effect, then run `db sync --resume --in-flight=completed` to continue at statement 3, or `db sync --resume --in-flight=not-completed` to run statement 2 again"
			for _, args := range [][]string{{"db", "sync"}, {"db", "sync", "--resume"}} {
				full := c.args(args...)
				code, out, errOut := ratchet(t, full...)
				if code != 1 || !strings.HasPrefix(errOut, prefix) || !strings.Contains(errOut, choices) {
					t.Fatalf("`ratchet %s` exited %d, want 1 with stderr starting %q and giving %q\nstdout:\n%sstderr:\n%s",
						strings.Join(full, " "), code, prefix, choices, out, errOut)
				}
				if d := cmp.Diff(before, inFlightState(t, c.tdb)); d != "" {
					t.Fatalf("the refused `ratchet %s` changed the database (-before +after):\n%s", strings.Join(full, " "), d)
				}
			}

			choice := "--in-flight=not-completed"
			if took {
				choice = "--in-flight=completed"
			}
			c.run("db", "sync", "--resume", choice)
			want = inFlightSnapshot{Version: 2, Journal: "none", Rows: map[string]int{"a": 1, "b": 0, "quick": 0, "slow": tc.slowRows}, History: "version 2: 1 row, 4 statements"}
			if d := cmp.Diff(want, inFlightState(t, c.tdb)); d != "" {
				t.Errorf("after `db sync --resume %s` (-want +got):\n%s", choice, d)
			}
		})
	}
}

// inFlightSnapshot is what TestCrashKillInFlightStatement observes of its database.
type inFlightSnapshot struct {
	Version int
	Journal string
	Rows    map[string]int // rows of each table other than ratchet's
	History string         // version 2's history rows; "" when it has none
}

// Tables returns the tables of the snapshot, sorted.
func (s inFlightSnapshot) Tables() []string {
	var names []string
	for n := range s.Rows {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// inFlightState reads what TestCrashKillInFlightStatement checks.
func inFlightState(t *testing.T, tdb *testdb.DB) inFlightSnapshot {
	t.Helper()
	s := inFlightSnapshot{Journal: "none", Rows: map[string]int{}}
	if err := tdb.DB.QueryRow("SELECT version FROM migrate_version WHERE repository_id = '" + crashRepoID + "'").Scan(&s.Version); err != nil {
		t.Fatal(err)
	}
	for _, n := range tdb.Tables(t) {
		switch n {
		case "migrate_version", "ratchet_history", "ratchet_journal":
			continue
		}
		var rows int
		if err := tdb.DB.QueryRow("SELECT count(*) FROM " + n).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		s.Rows[n] = rows
	}
	var j crashJournal
	var msg *string
	err := tdb.DB.QueryRow("SELECT version, done, total, running, error FROM ratchet_journal WHERE repository_id = '"+crashRepoID+"'").
		Scan(&j.Version, &j.Done, &j.Total, &j.Running, &msg)
	switch {
	case err == nil:
		e := "NULL"
		if msg != nil {
			e = fmt.Sprintf("%q", *msg)
		}
		s.Journal = fmt.Sprintf("version %d, done %d of %d, running %d, error %s", j.Version, j.Done, j.Total, j.Running, e)
	case !errors.Is(err, sql.ErrNoRows):
		t.Fatal(err)
	}
	var runs, statements int
	if err := tdb.DB.QueryRow("SELECT count(*), COALESCE(max(statements), 0) FROM ratchet_history WHERE version = 2").Scan(&runs, &statements); err != nil {
		t.Fatal(err)
	}
	if runs > 0 {
		s.History = fmt.Sprintf("version 2: %d row, %d statements", runs, statements)
	}
	return s
}
