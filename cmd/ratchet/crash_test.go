package main

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// The tests in this file kill `ratchet db sync` with SIGKILL at random moments and check that
// the database is always at a version that matches its schema exactly, and that the next run
// completes; others kill it, or interrupt it with SIGINT, at chosen moments: inside a long
// version, during a commit, while it rewrites its journal. Each version v of the crash
// repository creates table t_v and records v in a ledger table, so "applied" is observable
// twice; every fourth version also fills its table, so that kills land inside versions as
// well as between them.
//
// On MySQL/MariaDB DDL commits implicitly, so a kill inside a version can leave it part
// applied, recorded in ratchet_journal. Its DDL is written CREATE TABLE IF NOT EXISTS so that
// `db sync --resume` may run a statement again whose journal entry the kill prevented; the
// ledger and fill inserts are DML, committed with their journal entries, and must run exactly
// once.

const (
	crashVersions = 60 // versions in the crash repository
	crashFillRows = 10000
	crashRepoID   = "process_test" // the repository id writeRepo writes
)

// crashStmt is one statement of a crash-repository version and its observable effect.
type crashStmt struct {
	sql    string
	table  string // table the statement creates; "" for DML
	ledger bool   // records the version in the ledger
	fill   bool   // inserts crashFillRows rows into the version's table
}

// crashScript returns the statements of version v, in order.
func crashScript(v int) []crashStmt {
	var stmts []crashStmt
	if v == 1 {
		stmts = append(stmts, crashStmt{sql: "CREATE TABLE IF NOT EXISTS ledger (version INTEGER NOT NULL);", table: "ledger"})
	}
	t := crashTable(v)
	stmts = append(stmts,
		crashStmt{sql: "CREATE TABLE IF NOT EXISTS " + t + " (id INTEGER);", table: t},
		crashStmt{sql: fmt.Sprintf("INSERT INTO ledger (version) VALUES (%d);", v), ledger: true},
	)
	if crashFills(v) {
		stmts = append(stmts, crashStmt{fill: true, sql: "INSERT INTO " + t + " (id)" +
			" WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100)" +
			" SELECT a.x * 1000 + b.x FROM c a, c b;"})
	}
	return stmts
}

// crashFills reports whether version v fills its table.
func crashFills(v int) bool { return v%4 == 0 }

// crashTable returns the name of the table version v creates.
func crashTable(v int) string { return "t_" + strconv.Itoa(v) }

// crashRepo writes the crash repository: one default script per version.
func crashRepo(t *testing.T) string {
	scripts := make(map[string]string, crashVersions)
	for v := 1; v <= crashVersions; v++ {
		var b strings.Builder
		for _, st := range crashScript(v) {
			b.WriteString(st.sql + "\n")
		}
		scripts[fmt.Sprintf("%03d_step_default_upgrade.sql", v)] = b.String()
	}
	return writeRepo(t, scripts)
}

// crashJournal is the ratchet_journal row of a version in flight.
type crashJournal struct {
	Version, Done, Total int
	Error                string
}

// crashState is what a database holds, as far as the crash repository is concerned.
type crashState struct {
	Version int             // recorded in migrate_version; 0 without a row
	Journal *crashJournal   // nil when no version is in flight
	Tables  map[string]bool // tables other than ratchet's bookkeeping tables
	Ledger  map[int]int     // version → ledger rows recording it
	Filled  map[string]int  // rows in each present table of a filling version
}

// crashObserve reads the crash state of a database.
func crashObserve(t *testing.T, tdb *testdb.DB) crashState {
	t.Helper()
	st := crashState{Tables: map[string]bool{}, Ledger: map[int]int{}, Filled: map[string]int{}}
	names, err := testdb.Strings(tdb.DB, tdb.Dialect.ListTables(), tdb.Schema())
	if err != nil {
		t.Fatalf("listing tables: %v", err)
	}
	bookkeeping := map[string]bool{"migrate_version": true, "ratchet_history": true, "ratchet_journal": true}
	for _, n := range names {
		if !bookkeeping[n] {
			st.Tables[n] = true
		}
	}
	if slices.Contains(names, "migrate_version") {
		err := tdb.DB.QueryRow("SELECT version FROM migrate_version WHERE repository_id = '" + crashRepoID + "'").Scan(&st.Version)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("reading migrate_version: %v", err)
		}
	}
	if slices.Contains(names, "ratchet_journal") {
		var j crashJournal
		var msg sql.NullString
		err := tdb.DB.QueryRow("SELECT version, done, total, error FROM ratchet_journal WHERE repository_id = '"+crashRepoID+"'").
			Scan(&j.Version, &j.Done, &j.Total, &msg)
		switch {
		case err == nil:
			j.Error = msg.String
			st.Journal = &j
		case !errors.Is(err, sql.ErrNoRows):
			t.Fatalf("reading ratchet_journal: %v", err)
		}
	}
	if st.Tables["ledger"] {
		rows, err := tdb.DB.Query("SELECT version, count(*) FROM ledger GROUP BY version")
		if err != nil {
			t.Fatalf("reading the ledger: %v", err)
		}
		defer rows.Close()
		for rows.Next() {
			var v, n int
			if err := rows.Scan(&v, &n); err != nil {
				t.Fatal(err)
			}
			st.Ledger[v] = n
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("reading the ledger: %v", err)
		}
	}
	for v := 1; v <= crashVersions; v++ {
		if name := crashTable(v); crashFills(v) && st.Tables[name] {
			var n int
			if err := tdb.DB.QueryRow("SELECT count(*) FROM " + name).Scan(&n); err != nil {
				t.Fatalf("counting %s: %v", name, err)
			}
			st.Filled[name] = n
		}
	}
	return st
}

// mismatch returns what in the state contradicts its recorded version and journal, or "".
// Versions 1..Version must be applied exactly and nothing of later versions, except for the
// version the journal names: its first Done statements are applied, DML exactly once, and
// the DDL statement right after them may be too (it commits before its journal entry).
func (st crashState) mismatch() string {
	var problems []string
	done := map[int]int{} // version → statements applied; absent means none
	for v := 1; v <= st.Version; v++ {
		done[v] = len(crashScript(v))
	}
	var maybeTables []string // DDL run after the journal's last entry, in order
	if j := st.Journal; j != nil {
		stmts := crashScript(j.Version)
		switch {
		case j.Version != st.Version+1:
			problems = append(problems, fmt.Sprintf("the journal names version %d, but version %d is recorded", j.Version, st.Version))
		case j.Total != len(stmts) || j.Done > len(stmts):
			problems = append(problems, fmt.Sprintf("the journal says %d of %d statements of version %d ran; it has %d", j.Done, j.Total, j.Version, len(stmts)))
		default:
			done[j.Version] = j.Done
			// DDL is journalled with the next commit: the statements that create tables
			// right after the last entry may have run, each only if those before it did.
			for k := j.Done; k < len(stmts) && stmts[k].table != ""; k++ {
				maybeTables = append(maybeTables, stmts[k].table)
			}
		}
		if j.Error != "" {
			problems = append(problems, fmt.Sprintf("the journal records an error %q, but the process was killed", j.Error))
		}
	}
	wantTables := map[string]bool{}
	wantLedger := map[int]int{}
	wantFilled := map[string]int{}
	for v := 1; v <= crashVersions; v++ {
		for i, s := range crashScript(v) {
			applied := i < done[v]
			switch {
			case s.table != "" && applied:
				wantTables[s.table] = true
			case s.ledger && applied:
				wantLedger[v] = 1
			case s.fill:
				if applied {
					wantFilled[crashTable(v)] = crashFillRows
				} else if st.Tables[crashTable(v)] {
					wantFilled[crashTable(v)] = 0
				}
			}
		}
	}
	for _, t := range maybeTables {
		if !st.Tables[t] {
			break
		}
		wantTables[t] = true
	}
	if d := cmp.Diff(wantTables, st.Tables); d != "" {
		problems = append(problems, "tables (-want +got):\n"+d)
	}
	if d := cmp.Diff(wantLedger, st.Ledger); d != "" {
		problems = append(problems, "ledger rows per version (-want +got):\n"+d)
	}
	if d := cmp.Diff(wantFilled, st.Filled); d != "" {
		problems = append(problems, "rows in filled tables (-want +got):\n"+d)
	}
	return strings.Join(problems, "\n")
}

// String summarises the state for failure messages.
func (st crashState) String() string {
	s := fmt.Sprintf("version %d, %d tables, ledger %v", st.Version, len(st.Tables), st.Ledger)
	if j := st.Journal; j != nil {
		s += fmt.Sprintf(", journal: version %d after statement %d of %d (error %q)", j.Version, j.Done, j.Total, j.Error)
	}
	return s
}

// crashKills is how many times per dialect each kill test SIGKILLs a running `ratchet db sync`.
const crashKills = 20

// TestCrashKillSync kills `ratchet db sync` at random moments, crashKills times per dialect.
// Once the server has finished what the killed process had sent, the recorded version must
// match the schema exactly (or, on MySQL/MariaDB, the journal must name the version in
// flight, which a plain `db sync` then refuses and `db sync --resume` completes without
// repeating its applied statements), and the next `db sync` must complete.
func TestCrashKillSync(t *testing.T) {
	repo := crashRepo(t)
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newCrashTest(t, name, repo)
			resumeNext := false
			for c.kills < crashKills {
				args := []string{"db", "sync"}
				if resumeNext {
					args = append(args, "--resume")
				}
				r := c.kill(args...)
				c.quiesce(r)
				st := c.checkKill(r)
				c.tally(st)
				resumeNext = c.recover(st)
				if st.Version == crashVersions {
					c.renew()
				}
			}
			c.finish(resumeNext)
			c.report()
		})
	}
}

// TestCrashRestartAfterKill kills `ratchet db sync` at random moments, crashKills times per
// dialect, and runs the next `db sync` at once, as a supervisor restarting a crashed job
// does: it must complete (resuming a version in flight on MySQL/MariaDB) even while the
// server is still finishing what the killed process had sent, and leave the schema exact.
// The restart goes two versions past the last one the killed run reported, so that it runs
// the version the killed run may have left in flight on the server.
func TestCrashRestartAfterKill(t *testing.T) {
	repo := crashRepo(t)
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newCrashTest(t, name, repo)
			for c.kills < crashKills {
				r := c.kill("db", "sync")
				c.restart(r)
			}
			c.finish(false)
			c.report()
		})
	}
}

// crashTest is one dialect's kill sequence.
type crashTest struct {
	t    *testing.T
	name string
	repo string
	tdb  *testdb.DB
	rng  *rand.Rand
	runs int // runs started, killed or not
	last int // the version the database was last seen at
	// What the kills left, logged at the end: kills of a running process, versions applied
	// by killed runs, versions left in flight, those whose next DDL statement committed
	// without its journal entry, restarts that began while the killed run's server session
	// was still busy, restarts that had to resume, and databases used.
	kills, advanced, inFlight, lagged, raced, resumed, databases int
	// versionFailures counts the times `ratchet db version` failed after a kill.
	versionFailures int
}

// newCrashTest starts a kill sequence on a fresh database. Its random delays come from
// RATCHET_CRASH_SEED when set, so that a failing sequence can be replayed.
func newCrashTest(t *testing.T, name, repo string) *crashTest {
	seed := rand.Uint64()
	if s := os.Getenv("RATCHET_CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("RATCHET_CRASH_SEED=%q: %v", s, err)
		}
	}
	t.Logf("RATCHET_CRASH_SEED=%d", seed)
	return &crashTest{t: t, name: name, repo: repo, tdb: testdb.New(t, name), rng: rand.New(rand.NewPCG(seed, 0)), databases: 1}
}

// args returns ratchet's command line for the current database.
func (c *crashTest) args(args ...string) []string {
	return append([]string{"--repository", c.repo, "--database", c.tdb.URL}, args...)
}

// renew moves the sequence to a fresh database once the current one is at the latest
// version, which a run that finished before its kill leaves.
func (c *crashTest) renew() {
	c.finish(false)
	c.tdb = testdb.New(c.t, c.name)
	c.databases++
	c.last = 0
}

// crashRun is one `ratchet` run that was killed, or finished before the kill.
type crashRun struct {
	n              int // 1 for the first run of the sequence
	args           []string
	delay          time.Duration
	killed         bool // the process was still running when SIGKILL arrived
	stdout, stderr string
}

func (r crashRun) String() string {
	return fmt.Sprintf("run %d, `ratchet %s`, SIGKILL after %v (still running: %v)\nstdout:\n%sstderr:\n%s",
		r.n, strings.Join(r.args, " "), r.delay, r.killed, r.stdout, r.stderr)
}

// kill starts ratchet, sends it SIGKILL after a random 5–150 ms and waits for it. A run that
// ended before the kill must have succeeded.
func (c *crashTest) kill(args ...string) crashRun {
	c.t.Helper()
	c.runs++
	if c.runs > 10*crashKills {
		c.t.Fatalf("only %d of %d runs were still running when killed", c.kills, c.runs-1)
	}
	r := crashRun{n: c.runs, args: c.args(args...), delay: time.Duration(5+c.rng.IntN(146)) * time.Millisecond}
	cmd := exec.Command(ratchetBin, r.args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	time.Sleep(r.delay)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		c.t.Fatal(err)
	}
	err := cmd.Wait()
	r.stdout, r.stderr = stdout.String(), stderr.String()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		r.killed = true
		c.kills++
	} else if err != nil {
		c.t.Fatalf("%s\nended with %v before it was killed", r, err)
	}
	return r
}

// busy returns the number of sessions on the test database, other than the caller's, that
// are running something: those of a killed process finishing a statement or a commit the
// process had sent. SQLite has no server, so none.
func (c *crashTest) busy() int {
	c.t.Helper()
	var query string
	switch c.name {
	case "postgresql":
		query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'"
	case "mysql":
		query = "SELECT count(*) FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID() AND command <> 'Sleep'"
	default:
		return 0
	}
	var n int
	if err := c.tdb.DB.QueryRow(query).Scan(&n); err != nil {
		c.t.Fatalf("counting busy sessions: %v", err)
	}
	return n
}

// quiesce waits until the server has finished the statements of the killed run r: the
// server only sees that a client died once it tries to talk to it.
func (c *crashTest) quiesce(r crashRun) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := c.busy()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s\n%d sessions are still busy 30 s after the kill", r, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// check reads the database's state and fails the test, saying what happened, if it
// contradicts its recorded version.
func (c *crashTest) check(what string) crashState {
	c.t.Helper()
	st := crashObserve(c.t, c.tdb)
	if msg := st.mismatch(); msg != "" {
		c.t.Fatalf("%s\nthe database is inconsistent: %s\n%s", what, st, msg)
	}
	if st.Journal != nil && c.tdb.Dialect.TransactionalDDL() {
		c.t.Fatalf("%s\na journal on %s, whose DDL is transactional: %s", what, c.name, st)
	}
	return st
}

// checkKill checks the state the killed run r left, once the server is quiet. First, before
// anything else touches the database, `ratchet db version` must work and print the version
// the database records; a failure there is reported once, counted, and the sequence goes on.
// Then the state must be consistent (see [crashTest.check]).
func (c *crashTest) checkKill(r crashRun) crashState {
	c.t.Helper()
	full := c.args("db", "version")
	code, stdout, stderr := ratchet(c.t, full...)
	st := c.check(r.String())
	if code == 0 && strings.TrimSpace(stdout) == strconv.Itoa(st.Version) {
		return st
	}
	if c.versionFailures++; c.versionFailures == 1 {
		c.t.Errorf("%s\nthen `ratchet %s` exited %d, want 0 and %d\nstdout:\n%sstderr:\n%s",
			r, strings.Join(full, " "), code, st.Version, stdout, stderr)
	}
	return st
}

// tally counts what a killed run did: st is the state it left.
func (c *crashTest) tally(st crashState) {
	c.advanced += st.Version - c.last
	c.last = st.Version
	if j := st.Journal; j != nil {
		c.inFlight++
		if stmts := crashScript(j.Version); j.Done < len(stmts) && st.Tables[stmts[j.Done].table] {
			c.lagged++
		}
	}
}

// report logs what the kills left, or what the restarts after them met.
func (c *crashTest) report() {
	c.t.Logf("%d runs, %d killed while running, in %d databases", c.runs, c.kills, c.databases)
	if c.advanced > 0 {
		c.t.Logf("killed runs applied %d versions and left %d in flight, %d of them with the next DDL statement committed but not journalled",
			c.advanced, c.inFlight, c.lagged)
	}
	if c.raced+c.resumed > 0 {
		c.t.Logf("%d restarts began while the killed run's session was still busy; %d resumed a version in flight", c.raced, c.resumed)
	}
	if c.versionFailures > 0 {
		c.t.Errorf("`ratchet db version` failed after %d of %d kills", c.versionFailures, c.kills)
	}
}

// run runs ratchet to completion and requires exit 0; it returns a description of the run.
func (c *crashTest) run(args ...string) string {
	c.t.Helper()
	full := c.args(args...)
	code, stdout, stderr := ratchet(c.t, full...)
	what := fmt.Sprintf("`ratchet %s` exited %d\nstdout:\n%sstderr:\n%s", strings.Join(full, " "), code, stdout, stderr)
	if code != 0 {
		c.t.Fatal(what)
	}
	return what
}

// sync runs ratchet to completion and checks the crash state it leaves: wantVersion and no
// version in flight.
func (c *crashTest) sync(wantVersion int, args ...string) crashState {
	c.t.Helper()
	what := c.run(args...)
	st := c.check(what)
	if st.Version != wantVersion || st.Journal != nil {
		c.t.Fatalf("%s\nleft %s; want version %d and no version in flight", what, st, wantVersion)
	}
	c.last = st.Version
	return st
}

// version returns the version `ratchet db version` prints.
func (c *crashTest) version() int {
	c.t.Helper()
	full := c.args("db", "version")
	code, stdout, stderr := ratchet(c.t, full...)
	v, err := strconv.Atoi(strings.TrimSpace(stdout))
	if code != 0 || err != nil {
		c.t.Fatalf("`ratchet %s` exited %d: %q %q", strings.Join(full, " "), code, stdout, stderr)
	}
	return v
}

// recover handles the state a kill left. A version in flight must be refused by a plain
// `db sync`, which changes nothing; then either `db sync --resume` completes it now, or the
// next killed run resumes it (the result says which). Otherwise the next version is applied,
// proving the database is not stuck.
func (c *crashTest) recover(st crashState) (resumeNext bool) {
	c.t.Helper()
	j := st.Journal
	if j == nil {
		if st.Version < crashVersions {
			c.sync(st.Version+1, "db", "sync", strconv.Itoa(st.Version+1))
		}
		return false
	}
	full := c.args("db", "sync")
	code, stdout, stderr := ratchet(c.t, full...)
	want := fmt.Sprintf("version %d was interrupted after statement %d of %d", j.Version, j.Done, j.Total)
	if code != 1 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "--resume") || !strings.Contains(stderr, "--retry") {
		c.t.Fatalf("state %s: `ratchet %s` exited %d, want 1 with %q and the --resume and --retry choices\nstdout:\n%sstderr:\n%s",
			st, strings.Join(full, " "), code, want, stdout, stderr)
	}
	if after := crashObserve(c.t, c.tdb); !cmp.Equal(st, after) {
		c.t.Fatalf("the refused `db sync` changed the database (-before +after):\n%s", cmp.Diff(st, after))
	}
	if c.rng.IntN(3) == 0 {
		return true
	}
	c.sync(j.Version, "db", "sync", "--resume", strconv.Itoa(j.Version))
	return false
}

// crashStopped matches the refusal of a run that finds a version in flight.
var crashStopped = regexp.MustCompile(`version (\d+) (?:was interrupted|failed) after statement`)

// crashReported matches the line a run prints for each version it applied.
var crashReported = regexp.MustCompile(`(?m)^\d+ -> (\d+)\s`)

// restart runs the next `db sync` right after the killed run r, without waiting for the
// server to finish what r had sent, up to two versions past the last one r reported. If it
// refuses because a version is in flight, `db sync --resume` must complete it. Once the
// server is quiet the state must be exact.
func (c *crashTest) restart(r crashRun) {
	c.t.Helper()
	reported := c.last
	for _, m := range crashReported.FindAllStringSubmatch(r.stdout, -1) {
		reported, _ = strconv.Atoi(m[1])
	}
	if reported == crashVersions {
		c.quiesce(r)
		c.renew()
		return
	}
	if c.busy() > 0 {
		c.raced++
	}
	target := strconv.Itoa(min(reported+2, crashVersions))
	args := []string{"db", "sync", target}
	code, stdout, stderr := ratchet(c.t, c.args(args...)...)
	if code == 1 && crashStopped.MatchString(stderr) {
		c.resumed++
		args = []string{"db", "sync", "--resume", target}
		code, stdout, stderr = ratchet(c.t, c.args(args...)...)
	}
	what := fmt.Sprintf("%s\nthen, at once, `ratchet %s` exited %d\nstdout:\n%sstderr:\n%s", r, strings.Join(args, " "), code, stdout, stderr)
	if code != 0 {
		c.t.Fatal(what)
	}
	c.quiesce(r)
	st := c.check(what)
	if want, _ := strconv.Atoi(target); st.Version != want || st.Journal != nil {
		c.t.Fatalf("%s\nleft %s; want version %d and no version in flight", what, st, want)
	}
	c.last = st.Version
}

// finish runs `db sync` to the latest version and checks the final state.
func (c *crashTest) finish(resume bool) {
	c.t.Helper()
	args := []string{"db", "sync"}
	if resume {
		args = append(args, "--resume")
	}
	st := c.sync(crashVersions, args...)
	if len(st.Ledger) != crashVersions {
		c.t.Fatalf("final state %s: the ledger records %d versions, want %d", st, len(st.Ledger), crashVersions)
	}
}

// TestCrashInterruptServer sends SIGINT while a version sleeps on the server. ratchet must
// exit 130. On PostgreSQL the version rolls back; on MySQL/MariaDB, whose DDL commits, the
// journal records it as interrupted after its committed CREATE TABLE, a plain `db sync`
// refuses, and `db sync --resume` completes it without running the CREATE TABLE again.
func TestCrashInterruptServer(t *testing.T) {
	repo := writeRepo(t, map[string]string{
		"001_quick_default_upgrade.sql":   "CREATE TABLE quick (id INTEGER);",
		"002_slow_postgresql_upgrade.sql": "CREATE TABLE slow (n INTEGER);\nSELECT pg_sleep(2);",
		"002_slow_mysql_upgrade.sql":      "CREATE TABLE slow (n INTEGER);\nSELECT SLEEP(2);",
	})
	for _, name := range []string{"postgresql", "mysql"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := &crashTest{t: t, name: name, repo: repo, tdb: testdb.New(t, name)}
			// Signal version 2 once version 1 is reported applied.
			cmd, stdout, stderr := startPastFirstVersion(t, c.args("db", "sync")...)
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
				t.Fatalf("ratchet ended with %v, want exit 130\nstdout:\n%sstderr:\n%s", err, stdout.String(), stderr.String())
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("stderr %q does not say it was interrupted", stderr.String())
			}
			tables, err := testdb.Strings(c.tdb.DB, c.tdb.Dialect.ListTables(), c.tdb.Schema())
			if err != nil {
				t.Fatal(err)
			}
			var version int
			if err := c.tdb.DB.QueryRow("SELECT version FROM migrate_version WHERE repository_id = '" + crashRepoID + "'").Scan(&version); err != nil {
				t.Fatal(err)
			}
			if version != 1 {
				t.Fatalf("after the interrupt the recorded version is %d, want 1", version)
			}
			if c.tdb.Dialect.TransactionalDDL() {
				if slices.Contains(tables, "slow") {
					t.Errorf("table slow of the interrupted version 2 was not rolled back: tables %v", tables)
				}
				c.run("db", "sync")
				if v := c.version(); v != 2 {
					t.Errorf("after db sync the version is %d, want 2", v)
				}
				return
			}
			if !slices.Contains(tables, "slow") {
				t.Fatalf("table slow, created by the first statement of version 2, is missing: tables %v", tables)
			}
			full := c.args("db", "sync")
			code, out, errOut := ratchet(t, full...)
			// The driver drops the session to cancel the statement, so the journal cannot
			// record more than that the version was interrupted.
			want := "version 2 was interrupted after statement 1 of 2"
			if code != 1 || !strings.Contains(errOut, want) {
				t.Fatalf("`ratchet %s` exited %d, want 1 with %q\nstdout:\n%sstderr:\n%s", strings.Join(full, " "), code, want, out, errOut)
			}
			c.run("db", "sync", "--resume")
			if v := c.version(); v != 2 {
				t.Errorf("after db sync --resume the version is %d, want 2", v)
			}
		})
	}
}

// TestCrashReadOnlyAfterKill kills `ratchet db sync` on SQLite inside a long version, which
// leaves a hot rollback journal beside the database file. The commands that only read must
// still work: `db version` prints the version before the killed one, `db status` lists it as
// pending and `db check` exits 3.
func TestCrashReadOnlyAfterKill(t *testing.T) {
	repo := writeRepo(t, map[string]string{
		"001_quick_default_upgrade.sql": "CREATE TABLE quick (id INTEGER);",
		"002_slow_sqlite_upgrade.sql": "CREATE TABLE slow (n INTEGER);\n" +
			"INSERT INTO slow WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000000) SELECT x FROM c;",
	})
	c := &crashTest{t: t, name: "sqlite", repo: repo, tdb: testdb.New(t, "sqlite")}
	// Signal version 2 once version 1 is reported applied.
	cmd, stdout, stderr := startPastFirstVersion(t, c.args("db", "sync")...)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("db sync ended before the kill\nstdout:\n%sstderr:\n%s", stdout.String(), stderr.String())
	}
	if _, err := os.Stat(c.tdb.Name + "-journal"); err != nil {
		t.Logf("no rollback journal after the kill: %v", err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want *regexp.Regexp
	}{
		{[]string{"db", "version"}, 0, regexp.MustCompile(`^1\n$`)},
		{[]string{"db", "status"}, 0, regexp.MustCompile(`(?m)^2\s+pending\s`)},
		{[]string{"db", "check"}, 3, regexp.MustCompile(``)},
	} {
		full := c.args(tc.args...)
		code, out, errOut := ratchet(t, full...)
		if code != tc.code || !tc.want.MatchString(out) {
			t.Errorf("after the kill, `ratchet %s` exited %d, want %d and output matching %q\nstdout:\n%sstderr:\n%s",
				strings.Join(full, " "), code, tc.code, tc.want, out, errOut)
		}
	}
}

// TestCrashRestartDuringCommit kills `ratchet db sync` on PostgreSQL while the server is
// committing a version — a deferred constraint trigger makes the commit take two seconds —
// and runs `db sync` again at once. The server finishes that commit although its client is
// gone, so the new run must wait for it rather than apply the version a second time: it must
// exit 0 with the version applied once.
func TestCrashRestartDuringCommit(t *testing.T) {
	repo := writeRepo(t, map[string]string{
		"001_ledger_postgresql_upgrade.sql": `CREATE TABLE ledger (version INTEGER NOT NULL);
CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_sleep(2);
	RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_slow_commit AFTER INSERT ON ledger
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();
`,
		"002_two_postgresql_upgrade.sql": "INSERT INTO ledger (version) VALUES (2);",
	})
	c := &crashTest{t: t, name: "postgresql", repo: repo, tdb: testdb.New(t, "postgresql")}
	c.run("db", "sync", "1")
	cmd := exec.Command(ratchetBin, c.args("db", "sync")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	// Kill once the server is committing version 2.
	waitFor(t, c.tdb.DB, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query ILIKE 'commit%'")
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	full := c.args("db", "sync")
	code, stdout, stderr := ratchet(t, full...)
	if code != 0 {
		t.Errorf("`ratchet %s`, run right after the kill, exited %d, want 0\nstdout:\n%sstderr:\n%s", strings.Join(full, " "), code, stdout, stderr)
	}
	c.quiesce(crashRun{args: cmd.Args})
	var version, rows int
	if err := c.tdb.DB.QueryRow("SELECT version FROM migrate_version WHERE repository_id = '" + crashRepoID + "'").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if err := c.tdb.DB.QueryRow("SELECT count(*) FROM ledger WHERE version = 2").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if version != 2 || rows != 1 {
		t.Errorf("after the restart: version %d and %d ledger rows for version 2, want version 2 and 1 row", version, rows)
	}
}

// TestCrashResumeRestartsJournalAtomically kills `ratchet db sync --resume` on MySQL/MariaDB
// while it rewrites the journal of a version that stopped part way: another session holds the
// journal row, so ratchet's statement that replaces it waits, and the server completes it
// after the kill. The version must still be recorded as in flight, so that no run applies its
// first statement, already applied, a second time.
func TestCrashResumeRestartsJournalAtomically(t *testing.T) {
	repo := writeRepo(t, map[string]string{
		"001_ledger_mysql_upgrade.sql": "CREATE TABLE ledger (version INTEGER NOT NULL);",
		// The INSERT commits with its journal entry, the CREATE TABLE on its own; the last
		// statement fails.
		"002_two_mysql_upgrade.sql": "INSERT INTO ledger (version) VALUES (2);\nCREATE TABLE two (id INTEGER);\nINSERT INTO missing (id) VALUES (2);",
	})
	c := &crashTest{t: t, name: "mysql", repo: repo, tdb: testdb.New(t, "mysql")}
	full := c.args("db", "sync")
	if code, stdout, stderr := ratchet(t, full...); code != 1 || !strings.Contains(stderr, "version 2 stopped after statement 2 of 3") {
		t.Fatalf("`ratchet %s` exited %d, want 1 and version 2 stopped after statement 2\nstdout:\n%sstderr:\n%s", strings.Join(full, " "), code, stdout, stderr)
	}
	// Fix what made statement 3 fail, and hold the journal row.
	if _, err := c.tdb.DB.Exec("CREATE TABLE missing (id INTEGER)"); err != nil {
		t.Fatal(err)
	}
	tx, err := c.tdb.DB.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("SELECT * FROM ratchet_journal FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ratchetBin, c.args("db", "sync", "--resume")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	waitFor(t, c.tdb.DB, "SELECT count(*) FROM information_schema.processlist WHERE db = DATABASE() AND info LIKE '% ratchet_journal%' AND id <> CONNECTION_ID()")
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	c.quiesce(crashRun{args: cmd.Args})
	var journalled int
	if err := c.tdb.DB.QueryRow("SELECT count(*) FROM ratchet_journal WHERE version = 2").Scan(&journalled); err != nil {
		t.Fatal(err)
	}
	if journalled != 1 {
		t.Errorf("after the kill the journal no longer records version 2 as in flight, although its statement 1 was applied")
	}
	// Whatever the journal says, the next runs must bring version 2 in exactly once.
	code, stdout, stderr := ratchet(t, full...)
	if code == 1 && crashStopped.MatchString(stderr) {
		full = c.args("db", "sync", "--resume")
		code, stdout, stderr = ratchet(t, full...)
	}
	if code != 0 {
		t.Fatalf("`ratchet %s` exited %d\nstdout:\n%sstderr:\n%s", strings.Join(full, " "), code, stdout, stderr)
	}
	var rows int
	if err := c.tdb.DB.QueryRow("SELECT count(*) FROM ledger WHERE version = 2").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Errorf("the ledger records version 2 %d times, want once", rows)
	}
}
