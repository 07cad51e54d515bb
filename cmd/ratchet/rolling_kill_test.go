package main

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rollingKillsPerPhase is how many runs of each of db expand, db migrate and db contract
// TestRollingKill kills per dialect.
const rollingKillsPerPhase = 7

// rollingPhases are the rolling commands, in the order an upgrade runs them.
var rollingPhases = []string{"expand", "migrate", "contract"}

// TestRollingKill kills `db expand`, `db migrate` and `db contract` with SIGKILL at random
// moments, rollingKillsPerPhase times each per dialect, on databases of the rolling
// repository at version 1. After each kill the same command is run again, killed in turn
// or to the end; where it refuses because a MySQL phase stopped part way, the choice its
// message gives is made as an operator makes it, from the schema. Every database must end
// as the offline `db sync` leaves one: the same schema, no trigger, every account migrated
// exactly once.
func TestRollingKill(t *testing.T) {
	rollingEach(t, func(t *testing.T, offline rollingDB) {
		k := newRollingKill(offline.another())
		offline.want(0, "db", "sync")
		wantSchema, wantRows := rollingCatalog(t, offline.tdb), rollingRows(t, offline.tdb)
		for k.short() {
			if k.databases == 30 {
				t.Fatalf("after %d databases only %v runs were killed while running; want %d of each", k.databases, k.kills, rollingKillsPerPhase)
			}
			k.databases++
			r := offline.another()
			r.want(0, "db", "sync", "1")
			for _, phase := range rollingPhases {
				k.phase(r, phase)
			}
			r.want(0, "db", "check")
			if d := cmp.Diff(wantSchema, rollingCatalog(t, r.tdb)); d != "" {
				t.Fatalf("database %d: the schema differs from the offline db sync's (-offline +killed):\n%s", k.databases, d)
			}
			if n := rollingCount(t, r.tdb.DB, "SELECT count(*) FROM accounts WHERE migrations <> 1"); n != 0 {
				t.Fatalf("database %d: %d of %d accounts were not migrated exactly once", k.databases, n, rollingSeeded)
			}
			if n := rollingCount(t, r.tdb.DB, "SELECT count(*) FROM notes WHERE migrations <> 1"); n != 0 {
				t.Fatalf("database %d: %d of %d notes were not migrated exactly once", k.databases, n, rollingNotes)
			}
			if rollingRows(t, r.tdb) != wantRows {
				t.Fatalf("database %d: the rows differ from the offline db sync's", k.databases)
			}
			r.tdb.DB.Close() // the shared server's connections are few; the database is dropped at the end
		}
		t.Logf("%d runs killed while running (%v) in %d databases, %d of the migrate runs part way through the accounts, %d of the contract runs between the two versions; %d runs started while the killed one's connection was still busy on the server; %d refusals followed (%v); ratchet starts in about %v, the phases take %v",
			k.kills["expand"]+k.kills["migrate"]+k.kills["contract"], k.kills, k.databases, k.partial, k.between, k.raced, len(k.followed), k.followed, k.startup, k.took)
		if k.partial == 0 {
			t.Errorf("none of the %d kills of db migrate landed part way through the accounts", k.kills["migrate"])
		}
	})
}

// rollingKill is one dialect's kill sequence.
type rollingKill struct {
	t         *testing.T
	name      string
	rng       *rand.Rand
	startup   time.Duration
	took      map[string]time.Duration // how long each phase's run takes from start to end
	kills     map[string]int           // runs killed while running, per phase
	partial   int                      // migrate kills that left some accounts migrated and some not
	between   int                      // contract kills that left version 2 of 1-3 contracted
	raced     int                      // runs started while the killed run's connection was still busy on the server
	databases int
	followed  []string // the choices made after refusals
}

// newRollingKill starts a kill sequence, measuring on r, a database of its own, how long a
// command takes to start (the fastest of three `db version` runs) and how long each phase
// takes, start-up included.
func newRollingKill(r rollingDB) *rollingKill {
	t, name := r.t, r.tdb.Dialect.Name()
	k := &rollingKill{t: t, name: name, rng: crashRand(t, name), kills: map[string]int{}, took: map[string]time.Duration{}}
	k.startup = time.Hour
	for range 3 {
		start := time.Now()
		r.want(0, "db", "version")
		k.startup = min(k.startup, time.Since(start))
	}
	r.want(0, "db", "sync", "1")
	for _, phase := range rollingPhases {
		start := time.Now()
		r.want(0, rollingPhaseArgs(phase)...)
		k.took[phase] = time.Since(start)
	}
	return k
}

// rollingPhaseArgs returns the command line of a phase: migrate pauses between batches, so
// that kills and other runs land between batches too.
func rollingPhaseArgs(phase string) []string {
	if phase == "migrate" {
		return []string{"db", phase, "--batch-delay", "5ms"}
	}
	return []string{"db", phase}
}

// short reports whether some phase has had fewer kills than wanted.
func (k *rollingKill) short() bool {
	for _, p := range rollingPhases {
		if k.kills[p] < rollingKillsPerPhase {
			return true
		}
	}
	return false
}

// phase runs one phase on r to its end, killing its runs until it has had its kills.
func (k *rollingKill) phase(r rollingDB, phase string) {
	k.t.Helper()
	args := rollingPhaseArgs(phase)
	for k.kills[phase] < rollingKillsPerPhase {
		res, killed := k.kill(r, phase, args)
		if !killed {
			if res.code != 0 {
				k.t.Fatalf("%s\nan unkilled run must succeed", res)
			}
			return
		}
		k.kills[phase]++
		// Half the time the next run starts at once, as a supervisor restarts a crashed job,
		// while the server may still be finishing what the killed run had sent.
		c := &crashTest{t: k.t, name: k.name, tdb: r.tdb}
		if k.rng.IntN(2) == 0 {
			c.quiesce(crashRun{args: r.args(args...)})
		} else if c.busy() > 0 {
			k.raced++
		}
		migrated, most := r.counters()
		if most > 1 {
			k.t.Fatalf("%s\nleft an account migrated %d times", res, most)
		}
		if phase == "migrate" {
			if migrated > 0 && migrated < rollingSeeded {
				k.partial++
			}
			r.checkpointAgrees(res.String())
		}
		if r.tdb.Dialect.TransactionalDDL() || phase == "migrate" {
			if phase == "contract" {
				k.contractedPart(r, res)
			}
			continue // nothing to choose: the next run is killed in turn
		}
		k.complete(r, phase, args)
		return
	}
	k.complete(r, phase, []string{"db", phase})
}

// contractedPart checks, after a kill of db contract where each version's contract is one
// transaction, that the database is at a version of the window and, when the kill landed
// between the window's two contracts, that `db check` says contract is next (ROLLING.md §3:
// "contract done with v11").
func (k *rollingKill) contractedPart(r rollingDB, res cmdResult) {
	k.t.Helper()
	v := rollingCount(k.t, r.tdb.DB, "SELECT version FROM migrate_version")
	switch v {
	case 1, 3:
	case 2:
		k.between++
		if code := runRatchet(k.t, r.args("db", "check")...).code; code != 5 {
			k.t.Fatalf("%s\nleft version 2 of the window 1-3 contracted; db check exited %d, want 5", res, code)
		}
		r.state(2, 3, 3, 3)
	default:
		k.t.Fatalf("%s\nleft version %d, outside the window 1-3", res, v)
	}
}

// kill runs the phase and sends it SIGKILL after a random delay, from half the start-up time
// to as long as a whole run of the phase takes, so that kills land while it connects, locks,
// runs its statements or batches and commits. It reports whether the run was still running
// when killed.
func (k *rollingKill) kill(r rollingDB, phase string, args []string) (cmdResult, bool) {
	k.t.Helper()
	delay := k.startup/2 + time.Duration(k.rng.Int64N(int64(k.took[phase])))
	full := r.args(args...)
	cmd := exec.Command(ratchetBin, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		k.t.Fatal(err)
	}
	time.Sleep(delay)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		k.t.Fatal(err)
	}
	cmd.Wait()
	took := time.Since(start)
	res := cmdResult{cmdline: ratchetBin + " " + strings.Join(full, " "), stdout: stdout.String(), stderr: stderr.String()}
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		res.code = -1
		return res, true
	}
	res.code = ws.ExitStatus()
	// An expand or contract that ended before its kill shows how long the phase really takes
	// on this machine now: later delays stay within it. (A migrate run after a kill has less
	// left to do than a whole one.)
	if phase != "migrate" {
		k.took[phase] = min(k.took[phase], took)
	}
	return res, false
}

// rollingChoice matches the commands a refusal offers, e.g. `db expand --resume`.
var rollingChoice = regexp.MustCompile("`(?:ratchet )?db (expand|migrate|contract)((?: --[a-z-]+(?:=[a-z-]+)?)*)`")

// rollingInFlightStmt matches the version and statement a refusal says was running when the
// run died.
var rollingInFlightStmt = regexp.MustCompile(`version (\d+) \w+ was interrupted while statement (\d+) of \d+`)

// complete runs the phase until it succeeds. When it is refused because the phase stopped
// part way, it makes the choice the message gives: resume, and where a statement that commits
// by itself was running, say whether it took effect, as the schema shows.
func (k *rollingKill) complete(r rollingDB, phase string, args []string) {
	k.t.Helper()
	for range 4 {
		res := runRatchet(k.t, r.args(args...)...)
		if res.code == 0 {
			return
		}
		want := "--resume"
		if m := rollingInFlightStmt.FindStringSubmatch(res.stderr); m != nil {
			// The operator looks at the schema once the server has finished what the
			// killed run had sent.
			c := &crashTest{t: k.t, name: k.name, tdb: r.tdb}
			c.quiesce(crashRun{args: r.args(args...)})
			v, _ := strconv.Atoi(m[1])
			n, _ := strconv.Atoi(m[2])
			want = "--in-flight=not-completed"
			if rollingInFlight(k.t, r.tdb, v, phase, n) {
				want = "--in-flight=completed"
			}
		}
		var flags []string
		for _, m := range rollingChoice.FindAllStringSubmatch(res.stderr, -1) {
			if m[1] == phase && strings.Contains(m[2], want) && !strings.Contains(m[2], "--retry") {
				flags = strings.Fields(m[2])
				break
			}
		}
		if res.code != 1 || flags == nil {
			k.t.Fatalf("%s\nwant exit 0, or exit 1 offering `db %s %s…`", res, phase, want)
		}
		k.followed = append(k.followed, phase+" "+strings.Join(flags, " "))
		args = append([]string{"db", phase}, flags...)
	}
	k.t.Fatalf("db %s did not complete after following its messages 3 times", phase)
}
