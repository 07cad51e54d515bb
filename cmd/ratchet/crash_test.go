package main

import (
	"bytes"
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
// the database always holds exactly what its version and journal say, and that the way out
// the next run offers completes every version with each statement applied exactly once;
// others kill it, or interrupt it with SIGINT, at chosen moments: inside a long version or
// statement, during a commit, while it rewrites its journal (here and in the other
// crash_*_test.go files). The crash repository is described in crash_state_test.go.
//
// A version that runs in one transaction (SQLite, PostgreSQL) is applied whole or not at all.
// A journalled one (MySQL/MariaDB, whose DDL commits implicitly, and no-transaction scripts)
// leaves an exact journal: the statements applied, and the statement in flight if it commits
// by itself, which the test, as an operator would, looks for in the schema before it tells
// `db sync --resume --in-flight=…` whether it took effect.

// Kills (or interrupts) per dialect of each random kill test.
const (
	crashKills        = 50 // TestCrashKillSync
	crashRestartKills = 20 // TestCrashRestartAfterKill
	crashInterrupts   = 15 // TestCrashInterruptSync
)

// TestCrashKillSync kills `ratchet db sync` at random moments, crashKills times per dialect.
// Once the server has finished what the killed process had sent, `db version` must print
// the recorded version and the state must match the version and the journal exactly (see
// [crashState.mismatch]). A version left in flight must be refused by a plain `db sync`
// (and, with a statement in flight, by a plain `db sync --resume`) with the message that
// names what is known and the choices, changing nothing; then the choice the message gives,
// made from what the schema shows, must complete it — at once, or in the next run, which is
// killed in turn. Otherwise the next version is applied, proving the database is not stuck.
func TestCrashKillSync(t *testing.T) {
	repo := crashRepo(t)
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newCrashTest(t, name, repo, crashKills)
			var recovery []string // the flags that complete the version left stopped, if any
			for c.kills < crashKills {
				r := c.kill(append([]string{"db", "sync"}, recovery...)...)
				c.quiesce(r)
				st := c.checkKill(r)
				c.tally(st)
				recovery = c.recover(st)
				if st.Version == crashVersions {
					c.renew()
				}
			}
			c.finish(recovery)
			c.report()
			// Kills inside versions are what the journal is for: with this many, some must
			// have landed there (a dozen or more do), or the sequence proved little.
			if c.stopped == 0 {
				t.Errorf("none of the %d kills left a version stopped part way", c.kills)
			}
		})
	}
}

// TestCrashInterruptSync does what TestCrashKillSync does with SIGINT instead of SIGKILL,
// crashInterrupts times per dialect: ratchet cancels what runs, records in the journal why a
// journalled version stopped, and exits 130. What it records must be as exact as what a kill
// leaves, though the server may still be finishing what the cancelled session had sent.
func TestCrashInterruptSync(t *testing.T) {
	repo := crashRepo(t)
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newCrashTest(t, name, repo, crashInterrupts)
			var recovery []string
			for c.kills < crashInterrupts {
				r := c.signal(syscall.SIGINT, append([]string{"db", "sync"}, recovery...)...)
				c.quiesce(r)
				st := c.checkKill(r)
				c.tally(st)
				recovery = c.recover(st)
				if st.Version == crashVersions {
					c.renew()
				}
			}
			c.finish(recovery)
			c.report()
		})
	}
}

// TestCrashRestartAfterKill kills `ratchet db sync` at random moments, crashRestartKills
// times per dialect, and runs the next `db sync` at once, as a supervisor restarting a
// crashed job does: it must complete, or refuse with the stopped version's message, even
// while the server is still finishing what the killed process had sent. After "interrupted
// after statement k", `db sync --resume` follows at once; after "interrupted while statement
// k was running", the operator's look at the schema, once the server is quiet, decides the
// --in-flight choice. The schema must then be exact. The restart goes two versions past the
// last one the killed run reported, so that it runs the version the killed run may have left
// in flight on the server.
func TestCrashRestartAfterKill(t *testing.T) {
	repo := crashRepo(t)
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newCrashTest(t, name, repo, crashRestartKills)
			for c.kills < crashRestartKills {
				r := c.kill("db", "sync")
				c.restart(r)
			}
			c.finish(nil)
			c.report()
		})
	}
}

// crashTest is one dialect's kill sequence.
type crashTest struct {
	t     *testing.T
	name  string
	repo  string
	tdb   *testdb.DB
	rng   *rand.Rand
	kills int // kills (or interrupts) of a running process so far
	want  int // kills the sequence makes
	runs  int // runs started, killed or not
	// startup is about how long ratchet takes to start on the database.
	startup time.Duration
	last    int // the version the database was last seen at
	// What the kills left, logged at the end: versions applied by killed runs, versions
	// left stopped part way, those with a statement in flight and, of these, those whose
	// statement had taken effect; restarts that began while the killed run's server session
	// was still busy, restarts that had to resume, and databases used.
	advanced, stopped, inFlight, tookEffect, raced, resumed, databases int
	// retried counts the versions stopped part way that were undone and run again.
	retried int
	// versionFailures counts the times `ratchet db version` failed after a kill.
	versionFailures int
	// staleRunning counts the journals that named an applied statement as running.
	staleRunning int
	// unsaid holds the messages of interrupted runs (exit 130) that do not say so.
	unsaid []string
}

// newCrashTest starts a kill sequence of want kills on a fresh database.
func newCrashTest(t *testing.T, name, repo string, want int) *crashTest {
	return &crashTest{t: t, name: name, repo: repo, want: want, tdb: testdb.New(t, name), rng: crashRand(t, name), databases: 1}
}

// crashRand returns the source of a kill sequence's random delays: seeded from
// RATCHET_CRASH_SEED when set, so that a failing sequence can be replayed, and logged.
func crashRand(t *testing.T, name string) *rand.Rand {
	seed := rand.Uint64()
	if s := os.Getenv("RATCHET_CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("RATCHET_CRASH_SEED=%q: %v", s, err)
		}
	}
	t.Logf("RATCHET_CRASH_SEED=%d (%s)", seed, name)
	return rand.New(rand.NewPCG(seed, 0))
}

// args returns ratchet's command line for the current database.
func (c *crashTest) args(args ...string) []string {
	return append([]string{"--repository", c.repo, "--database", c.tdb.URL}, args...)
}

// renew moves the sequence to a fresh database once the current one is at the latest
// version, which a run that finished before its kill leaves.
func (c *crashTest) renew() {
	c.finish(nil)
	c.tdb = testdb.New(c.t, c.name)
	c.databases++
	c.last = 0
}

// crashRun is one `ratchet` run that was killed, or finished before the kill.
type crashRun struct {
	n              int // 1 for the first run of the sequence
	args           []string
	sig            syscall.Signal
	delay          time.Duration
	killed         bool // the process was still running when the signal arrived
	stdout, stderr string
}

func (r crashRun) String() string {
	return fmt.Sprintf("run %d, `ratchet %s`, %v after %v (still running: %v)\nstdout:\n%sstderr:\n%s",
		r.n, strings.Join(r.args, " "), r.sig, r.delay, r.killed, r.stdout, r.stderr)
}

// kill starts ratchet, sends it SIGKILL after a random delay and waits for it. A run that
// ended before the kill must have succeeded.
func (c *crashTest) kill(args ...string) crashRun {
	c.t.Helper()
	return c.signal(syscall.SIGKILL, args...)
}

// signal starts ratchet, sends it sig after a random delay and waits for it. The delay runs
// from half the time ratchet takes to start to 250 ms past it, so that most signals land
// while versions run, and some while ratchet connects and locks. A run that ended before
// the signal must have succeeded; after SIGINT, one that saw it must exit 130 (or die of
// it, if it arrived before ratchet handled it).
func (c *crashTest) signal(sig syscall.Signal, args ...string) crashRun {
	c.t.Helper()
	c.runs++
	if c.runs > 10*c.want {
		c.t.Fatalf("only %d of %d runs were still running when signalled", c.kills, c.runs-1)
	}
	if c.startup == 0 {
		c.startup = c.measureStartup()
	}
	r := crashRun{n: c.runs, args: c.args(args...), sig: sig,
		delay: c.startup/2 + time.Duration(c.rng.Int64N(int64(c.startup/2+250*time.Millisecond)))}
	cmd := exec.Command(ratchetBin, r.args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	time.Sleep(r.delay)
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		c.t.Fatal(err)
	}
	err := cmd.Wait()
	r.stdout, r.stderr = stdout.String(), stderr.String()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ws.Signaled() && ws.Signal() == sig:
		r.killed = true
	case sig == syscall.SIGINT && ws.Exited() && ws.ExitStatus() == 130:
		r.killed = true
		if !strings.Contains(r.stderr, "interrupted") {
			c.unsaid = append(c.unsaid, strings.TrimSpace(r.stderr))
		}
	case err != nil:
		c.t.Fatalf("%s\nended with %v", r, err)
	}
	if r.killed {
		c.kills++
	}
	return r
}

// measureStartup returns how long the fastest of three `ratchet db version` runs takes:
// about the time `db sync` needs before it starts its first version.
func (c *crashTest) measureStartup() time.Duration {
	c.t.Helper()
	fastest := time.Duration(1<<63 - 1)
	for range 3 {
		start := time.Now()
		ratchet(c.t, c.args("db", "version")...)
		fastest = min(fastest, time.Since(start))
	}
	return fastest
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

// observe reads the database's crash state.
func (c *crashTest) observe() crashState {
	c.t.Helper()
	return crashObserve(c.t, c.tdb, c.name)
}

// check reads the database's state and fails the test, saying what happened, if it
// contradicts its recorded version and journal.
func (c *crashTest) check(what string) crashState {
	c.t.Helper()
	st := c.observe()
	if msg := st.mismatch(c.name); msg != "" {
		c.t.Fatalf("%s\nthe database is inconsistent: %s\n%s", what, st, msg)
	}
	if st.Journal != nil && c.tdb.Dialect.TransactionalDDL() && !crashNoTx(st.Journal.Version) {
		c.t.Fatalf("%s\na journal for a version that runs in one transaction on %s: %s", what, c.name, st)
	}
	if st.staleRunning() {
		if c.staleRunning++; c.staleRunning == 1 {
			c.t.Errorf("%s\nthe journal records statement %d of version %d both applied and running: %s", what, st.Journal.Running, st.Journal.Version, st)
		}
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
		c.stopped++
		if s, ok := st.inFlight(c.name); ok {
			c.inFlight++
			if applied, _ := st.effect(j.Version, j.Running, s); applied {
				c.tookEffect++
			}
		}
	}
}

// report logs what the kills left, or what the restarts after them met.
func (c *crashTest) report() {
	c.t.Logf("%d runs, %d killed while running, in %d databases; ratchet starts in about %v", c.runs, c.kills, c.databases, c.startup)
	if c.advanced > 0 || c.stopped > 0 {
		c.t.Logf("killed runs applied %d versions and left %d stopped part way, %d of them with a statement in flight (%d of which had taken effect); %d were undone and retried",
			c.advanced, c.stopped, c.inFlight, c.tookEffect, c.retried)
	}
	if c.raced+c.resumed > 0 {
		c.t.Logf("%d restarts began while the killed run's session was still busy; %d resumed a version stopped part way", c.raced, c.resumed)
	}
	if len(c.unsaid) > 0 {
		c.t.Logf("%d interrupted runs exited 130 with a message that does not say they were interrupted: %q", len(c.unsaid), c.unsaid)
	}
	if c.staleRunning > 0 {
		c.t.Errorf("%d journals named an applied statement as running", c.staleRunning)
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

// refused runs ratchet, which must refuse the version st's journal records as stopped: exit
// 1 with the message that says what the journal says and the choices, and nothing changed.
func (c *crashTest) refused(st crashState, args ...string) {
	c.t.Helper()
	full := c.args(args...)
	code, stdout, stderr := ratchet(c.t, full...)
	prefix, choices := crashStoppedMessage(c.name, st.Journal)
	ok := code == 1 && strings.HasPrefix(stderr, prefix)
	for _, s := range choices {
		ok = ok && strings.Contains(stderr, s)
	}
	if !ok {
		c.t.Fatalf("state %s: `ratchet %s` exited %d, want 1 with stderr starting %q and giving the choices %q\nstdout:\n%sstderr:\n%s",
			st, strings.Join(full, " "), code, prefix, choices, stdout, stderr)
	}
	if after := c.observe(); !cmp.Equal(st, after) {
		c.t.Fatalf("the refused `ratchet %s` changed the database (-before +after):\n%s", strings.Join(full, " "), cmp.Diff(st, after))
	}
}

// recovery returns the flags of the choice that completes the version st's journal records
// as stopped, made as an operator makes it: a statement in flight took effect if the schema
// shows its effect; a pause shows none, and either choice is right for it.
func (c *crashTest) recovery(st crashState) []string {
	s, ok := st.inFlight(c.name)
	if !ok {
		return []string{"--resume"}
	}
	applied, observable := st.effect(st.Journal.Version, st.Journal.Running, s)
	if !observable {
		applied = c.rng.IntN(2) == 0
	}
	if applied {
		return []string{"--resume", "--in-flight=completed"}
	}
	return []string{"--resume", "--in-flight=not-completed"}
}

// recover handles the state a kill left. A version stopped part way must be refused by a
// plain `db sync`, and with a statement in flight by a plain `db sync --resume` too, which
// change nothing; then one of the choices the message gives completes it: resuming now, or
// in the next killed run (the result is its flags), or undoing what the version did and
// running it again with `db sync --retry`. Otherwise the next version is applied, proving
// the database is not stuck.
func (c *crashTest) recover(st crashState) (next []string) {
	c.t.Helper()
	j := st.Journal
	if j == nil {
		if st.Version < crashVersions {
			c.sync(st.Version+1, "db", "sync", strconv.Itoa(st.Version+1))
		}
		return nil
	}
	c.refused(st, "db", "sync")
	if _, ok := st.inFlight(c.name); ok {
		c.refused(st, "db", "sync", "--resume")
	}
	flags := c.recovery(st)
	switch c.rng.IntN(4) {
	case 0:
		return flags
	case 1:
		c.undo(st)
		c.retried++
		flags = []string{"--retry"}
	}
	c.sync(j.Version, append(append([]string{"db", "sync"}, flags...), strconv.Itoa(j.Version))...)
	return nil
}

// undo removes, as an operator would before `db sync --retry`, what the version st's
// journal records as stopped left behind: its ledger rows and the tables it created.
func (c *crashTest) undo(st crashState) {
	c.t.Helper()
	v := st.Journal.Version
	stmts := crashScript(c.name, v)
	var undo []string
	if st.Tables["ledger"] && v > 1 {
		undo = append(undo, fmt.Sprintf("DELETE FROM ledger WHERE version = %d", v))
	}
	for i := len(stmts) - 1; i >= 0; i-- {
		if s := stmts[i]; s.kind == crashCreate && st.Tables[s.table] {
			undo = append(undo, "DROP TABLE "+s.table)
		}
	}
	for _, q := range undo {
		if _, err := c.tdb.DB.Exec(q); err != nil {
			c.t.Fatalf("undoing version %d before --retry: %s: %v", v, q, err)
		}
	}
}

// The refusals a run gives for a version stopped part way without a recorded failure.
var (
	crashInterruptedAfter = regexp.MustCompile(`version (\d+) was interrupted after statement (\d+) of (\d+) `)
	crashInterruptedWhile = regexp.MustCompile(`version (\d+) was interrupted while statement (\d+) of (\d+) \(\S+\) was running`)
)

// crashReported matches the line a run prints for each version it applied.
var crashReported = regexp.MustCompile(`(?m)^\d+ -> (\d+)\s`)

// restart runs the next `db sync` right after the killed run r, without waiting for the
// server to finish what r had sent, up to two versions past the last one r reported. If it
// refuses because a version stopped part way, the choice its message gives must complete
// it: `--resume` at once when no statement was in flight, else the --in-flight choice that
// the schema shows once the server is quiet. Once the server is quiet the state must be
// exact.
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
	what := fmt.Sprintf("%s\nthen, at once, `ratchet %s` exited %d\nstdout:\n%sstderr:\n%s", r, strings.Join(args, " "), code, stdout, stderr)
	if code == 1 {
		var flags []string
		switch {
		case crashInterruptedAfter.MatchString(stderr):
			flags = []string{"--resume"}
		case crashInterruptedWhile.MatchString(stderr):
			c.quiesce(r)
			st := c.check(what)
			m := crashInterruptedWhile.FindStringSubmatch(stderr)
			if j := st.Journal; j == nil || strconv.Itoa(j.Version) != m[1] || strconv.Itoa(j.Running) != m[2] || strconv.Itoa(j.Total) != m[3] {
				c.t.Fatalf("%s\nthe message does not name what the journal records: %s", what, st)
			}
			flags = c.recovery(st)
		default:
			c.t.Fatal(what)
		}
		c.resumed++
		args = append(append([]string{"db", "sync"}, flags...), target)
		code, stdout, stderr = ratchet(c.t, c.args(args...)...)
		what += fmt.Sprintf("\nthen `ratchet %s` exited %d\nstdout:\n%sstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
	}
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

// finish runs `db sync` with the given recovery flags to the latest version and checks the
// final state: every statement of every version applied exactly once.
func (c *crashTest) finish(flags []string) {
	c.t.Helper()
	c.sync(crashVersions, append([]string{"db", "sync"}, flags...)...)
}

// TestCrashInterruptServer sends SIGINT while a version sleeps on the server. ratchet must
// exit 130 and the next runs must complete the version with each statement applied once:
//   - PostgreSQL: the version rolls back, and the next `db sync` applies it.
//   - MySQL/MariaDB, whose DDL commits: the CREATE TABLE stays applied. The INSERT that
//     sleeps runs in a transaction with its journal entry, which the server, finishing what
//     the dropped session had sent, commits or rolls back: the journal must say which (the
//     version was interrupted after statement 1 or 2 as the row is absent or there), a plain
//     `db sync` must say so, and `db sync --resume` must complete the version without
//     running the CREATE TABLE (which would fail) or the INSERT again.
//   - PostgreSQL, no-transaction script: the sleep commits by itself, so it stays recorded in
//     flight; a plain `db sync` and a plain `db sync --resume` refuse, and the choice the
//     message gives completes it (a sleep leaves nothing behind, so it took effect as far as
//     the schema can tell).
func TestCrashInterruptServer(t *testing.T) {
	for _, tc := range []struct {
		name, dialect, script string
		// refusal is how a plain `db sync` after the interrupt must start, given the rows of
		// table slow; nil when the version rolled back and the next `db sync` applies it.
		refusal func(rows int) string
		resume  []string // the choice that completes the version
	}{
		{name: "postgresql", dialect: "postgresql", script: "CREATE TABLE slow (n INTEGER);\nSELECT pg_sleep(2);"},
		{
			name: "mysql", dialect: "mysql", script: "CREATE TABLE slow (n INTEGER);\nINSERT INTO slow (n) SELECT SLEEP(2);",
			refusal: func(rows int) string {
				if rows == 0 {
					return "ratchet: version 2 was interrupted after statement 1 of 2 (versions/002_slow_mysql_upgrade.sql); statement 1 stays applied; run `db sync --resume` to continue at statement 2"
				}
				return "ratchet: version 2 was interrupted after statement 2 of 2 (versions/002_slow_mysql_upgrade.sql); statements 1-2 stay applied; run `db sync --resume` to continue at statement 3"
			},
			resume: []string{"--resume"},
		},
		{
			name: "postgresql-no-transaction", dialect: "postgresql", script: "-- ratchet:no-transaction\nCREATE TABLE slow (n INTEGER);\nSELECT pg_sleep(2);",
			refusal: func(int) string {
				return "ratchet: version 2 was interrupted while statement 2 of 2 (versions/002_slow_postgresql_upgrade.sql) was running; it commits by itself, so it may or may not have taken effect; statement 1 stays applied"
			},
			resume: []string{"--resume", "--in-flight=completed"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo := writeRepo(t, map[string]string{
				"001_quick_default_upgrade.sql":           "CREATE TABLE quick (id INTEGER);",
				"002_slow_" + tc.dialect + "_upgrade.sql": tc.script,
			})
			c := &crashTest{t: t, name: tc.dialect, repo: repo, tdb: testdb.New(t, tc.dialect)}
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
			c.quiesce(crashRun{args: cmd.Args})
			tables := c.tdb.Tables(t)
			var version int
			if err := c.tdb.DB.QueryRow("SELECT version FROM migrate_version WHERE repository_id = '" + crashRepoID + "'").Scan(&version); err != nil {
				t.Fatal(err)
			}
			if version != 1 {
				t.Fatalf("after the interrupt the recorded version is %d, want 1", version)
			}
			if tc.refusal == nil {
				if slices.Contains(tables, "slow") {
					t.Errorf("table slow of the interrupted version 2 was not rolled back: tables %v", tables)
				}
				c.run("db", "sync")
			} else {
				if !slices.Contains(tables, "slow") {
					t.Fatalf("table slow, created by the first statement of version 2, is missing: tables %v", tables)
				}
				var rows int
				if err := c.tdb.DB.QueryRow("SELECT count(*) FROM slow").Scan(&rows); err != nil {
					t.Fatal(err)
				}
				refusal := tc.refusal(rows)
				plain := [][]string{{"db", "sync"}}
				if len(tc.resume) > 1 {
					plain = append(plain, []string{"db", "sync", "--resume"})
				}
				for _, args := range plain {
					full := c.args(args...)
					code, out, errOut := ratchet(t, full...)
					if code != 1 || !strings.HasPrefix(errOut, refusal) {
						t.Fatalf("table slow has %d rows; `ratchet %s` exited %d, want 1 with stderr starting %q\nstdout:\n%sstderr:\n%s", rows, strings.Join(full, " "), code, refusal, out, errOut)
					}
				}
				c.run(append([]string{"db", "sync"}, tc.resume...)...)
			}
			if v := c.version(); v != 2 {
				t.Errorf("after the next runs the version is %d, want 2", v)
			}
			var runs, statements int
			if err := c.tdb.DB.QueryRow("SELECT count(*), max(statements) FROM ratchet_history WHERE version = 2").Scan(&runs, &statements); err != nil {
				t.Fatal(err)
			}
			if runs != 1 || statements != 2 {
				t.Errorf("version 2 has %d history rows counting %d statements, want 1 row counting both", runs, statements)
			}
			if tc.dialect == "mysql" {
				var rows int
				if err := c.tdb.DB.QueryRow("SELECT count(*) FROM slow").Scan(&rows); err != nil {
					t.Fatal(err)
				}
				if rows != 1 {
					t.Errorf("the INSERT of version 2 was applied %d times, want once", rows)
				}
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
// while it rewrites the journal of a version that failed part way: another session holds the
// journal row, so ratchet's statement that replaces it waits, and the server completes it
// after the kill. The journal must still record statements 1-2 as applied, so that no run
// applies them a second time, and the next runs must complete the version with each
// statement applied once.
func TestCrashResumeRestartsJournalAtomically(t *testing.T) {
	repo := writeRepo(t, map[string]string{
		"001_ledger_mysql_upgrade.sql": "CREATE TABLE ledger (version INTEGER NOT NULL);",
		// The INSERT commits with its journal entry, the CREATE TABLE on its own; the last
		// statement fails.
		"002_two_mysql_upgrade.sql": "INSERT INTO ledger (version) VALUES (2);\nCREATE TABLE two (id INTEGER);\nINSERT INTO missing (id) VALUES (2);",
	})
	c := &crashTest{t: t, name: "mysql", repo: repo, tdb: testdb.New(t, "mysql")}
	full := c.args("db", "sync")
	if code, stdout, stderr := ratchet(t, full...); code != 1 || !strings.Contains(stderr, "(version 2 stopped after statement 2 of 3, which stay applied)") {
		t.Fatalf("`ratchet %s` exited %d, want 1 and version 2 stopped after statement 2\nstdout:\n%sstderr:\n%s", strings.Join(full, " "), code, stdout, stderr)
	}
	// Fix what made statement 3 fail, and hold the journal row.
	if _, err := c.tdb.DB.Exec("CREATE TABLE missing (id INTEGER)"); err != nil {
		t.Fatal(err)
	}
	tx := holdLock(t, c.tdb.DB, "SELECT * FROM ratchet_journal FOR UPDATE")
	defer tx.Rollback()
	cmd := exec.Command(ratchetBin, c.args("db", "sync", "--resume")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	// Kill once ratchet's rewrite of the journal waits for the row.
	waitForLockWait(t, c.tdb.DB)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	c.quiesce(crashRun{args: cmd.Args})
	var done int
	if err := c.tdb.DB.QueryRow("SELECT done FROM ratchet_journal WHERE version = 2").Scan(&done); err != nil {
		t.Fatalf("after the kill the journal no longer records version 2, although its statements 1-2 were applied: %v", err)
	}
	if done != 2 {
		t.Errorf("after the kill the journal records %d statements of version 2 applied, want 2", done)
	}
	// Whether the failure or the interrupted resume is recorded, the statements after the
	// applied ones are 3 of 3, and `db sync --resume` runs them.
	code, stdout, stderr := ratchet(t, full...)
	if want := regexp.MustCompile(`^ratchet: version 2 (?:failed at statement 3|was interrupted after statement 2) of 3 `); code != 1 || !want.MatchString(stderr) {
		t.Fatalf("`ratchet %s` exited %d, want 1 and stderr matching %q\nstdout:\n%sstderr:\n%s", strings.Join(full, " "), code, want, stdout, stderr)
	}
	c.run("db", "sync", "--resume")
	var rows, two, runs, statements int
	if err := c.tdb.DB.QueryRow("SELECT count(*) FROM ledger WHERE version = 2").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := c.tdb.DB.QueryRow("SELECT count(*) FROM missing WHERE id = 2").Scan(&two); err != nil {
		t.Fatal(err)
	}
	if err := c.tdb.DB.QueryRow("SELECT count(*), max(statements) FROM ratchet_history WHERE version = 2").Scan(&runs, &statements); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || two != 1 || runs != 1 || statements != 3 {
		t.Errorf("statement 1 applied %d times, statement 3 %d times, %d history rows for version 2 counting %d statements; want each statement once and 1 row counting 3",
			rows, two, runs, statements)
	}
	if v := c.version(); v != 2 {
		t.Errorf("the version is %d, want 2", v)
	}
}
