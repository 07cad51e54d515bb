package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// The tests in this file prove rolling upgrades through the binary on each database, with
// the rolling repository of rolling_repo_test.go: the previous release and the next one
// write at the same time through expand, migrate and the time both run, and every row keeps
// the mapping; `db check` and the refusals say at each moment what comes next; kills in
// every phase leave a database that the same command completes, each row migrated once;
// and the offline `db sync` leaves the schema the three steps leave.

// rollingDB runs ratchet on one database with the rolling repository.
type rollingDB struct {
	t    *testing.T
	repo string
	tdb  *testdb.DB
}

func (r rollingDB) args(args ...string) []string {
	return append([]string{"--repository", r.repo, "--database", r.tdb.URL}, args...)
}

// rollingEach runs test on a fresh database of each dialect, in parallel, with the rolling
// repository.
func rollingEach(t *testing.T, test func(t *testing.T, r rollingDB)) {
	repo := rollingRepo(t)
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, rollingDB{t: t, repo: repo, tdb: testdb.New(t, name)})
		})
	}
}

// another returns a fresh database of r's dialect with r's repository.
func (r rollingDB) another() rollingDB {
	return rollingDB{t: r.t, repo: r.repo, tdb: testdb.New(r.t, r.tdb.Dialect.Name())}
}

// want runs ratchet and requires the exit code.
func (r rollingDB) want(code int, args ...string) cmdResult {
	r.t.Helper()
	res := runRatchet(r.t, r.args(args...)...)
	if res.code != code {
		r.t.Fatalf("%s\nwant exit %d", res, code)
	}
	return res
}

// stdout requires the command's stdout to match re.
func (r rollingDB) stdout(res cmdResult, re string) {
	r.t.Helper()
	if !regexp.MustCompile(re).MatchString(res.stdout) {
		r.t.Fatalf("%s\nwant stdout matching %q", res, re)
	}
}

// state requires `db version --output json` to give the recorded version and how far an
// upgrade has gone; a target of -1 is not checked (no upgrade is open).
func (r rollingDB) state(version, expanded, migrated, target int) {
	r.t.Helper()
	res := r.want(0, "--output", "json", "db", "version")
	var got struct{ Version, Expanded, Migrated, Target int }
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		r.t.Fatalf("%s\n%v", res, err)
	}
	want := struct{ Version, Expanded, Migrated, Target int }{version, expanded, migrated, target}
	if target < 0 {
		want.Target = got.Target
	}
	if got != want {
		r.t.Fatalf("%s\nwant version %d, expanded %d, migrated %d, target %d", res, version, expanded, migrated, target)
	}
	if v := r.want(0, "db", "version"); strings.TrimSpace(v.stdout) != strconv.Itoa(version) {
		r.t.Fatalf("%s\nwant %d alone", v, version)
	}
}

// counters returns how many accounts the data migration migrated, and the most times it
// migrated any one.
func (r rollingDB) counters() (migrated, most int) {
	r.t.Helper()
	return rollingCount(r.t, r.tdb.DB, "SELECT count(*) FROM accounts WHERE migrations > 0"),
		rollingCount(r.t, r.tdb.DB, "SELECT coalesce(max(migrations), 0) FROM accounts")
}

// checkpointAgrees requires the open window's record of the data migration under way to
// count the rows it migrated so far: each batch commits with its checkpoint, or neither
// commits. The record counts each version's rows afresh.
func (r rollingDB) checkpointAgrees(what string) {
	r.t.Helper()
	var windows, migratedTo, rows int
	err := r.tdb.DB.QueryRow("SELECT count(*), coalesce(max(migrated), 0), coalesce(max(rows_migrated), 0) FROM ratchet_rolling").Scan(&windows, &migratedTo, &rows)
	if err != nil {
		r.t.Fatalf("%s\nreading ratchet_rolling: %v", what, err)
	}
	table := map[int]string{1: "accounts", 2: "notes"}[migratedTo] // the table of the version under way
	if windows == 0 || table == "" {
		return
	}
	if migrated := rollingCount(r.t, r.tdb.DB, "SELECT count(*) FROM "+table+" WHERE migrations > 0"); migrated != rows {
		r.t.Fatalf("%s\nratchet_rolling records %d rows migrated for version %d, %s shows %d", what, rows, migratedTo+1, table, migrated)
	}
}

// unmapped counts the accounts whose name and display_name differ.
func (r rollingDB) unmapped() int {
	r.t.Helper()
	return rollingCount(r.t, r.tdb.DB, `SELECT count(*) FROM accounts
		WHERE display_name IS NULL OR name IS NULL OR display_name <> name`)
}

// TestRollingWriters upgrades each database from version 1 to 3 the rolling way while two
// writer processes, the previous release (name only) and the next (display_name only),
// insert and update accounts: the previous release from before expand until just before
// contract, the next from expand on, through contract. At each moment `db check` must give
// what comes next (ROLLING.md §3), commands run out of turn must be refused, `--max-rows`
// must stop migrate with exit 4 and the next run continue, the writers must go on while
// migrate runs, and a migrate killed among them must lose only its batch; and at the end no
// acknowledged insert is lost, every account's name and display_name agree before contract,
// display_name is filled everywhere after it, and no account was migrated twice.
func TestRollingWriters(t *testing.T) {
	rollingEach(t, func(t *testing.T, r rollingDB) {
		r.want(0, "db", "sync", "1")
		r.want(3, "db", "check")
		r.want(1, "db", "migrate")  // before expand
		r.want(1, "db", "contract") // before expand
		r.state(1, 1, 1, -1)

		old := startWriter(t, r.tdb, "old", 100000)
		time.Sleep(200 * time.Millisecond)
		r.stdout(r.want(0, "db", "expand"), `(?m)^Expanded database to 3 \(version 1\); next: ratchet db migrate$`)
		r.stdout(r.want(0, "db", "expand"), `(?m)^Database expansion is up to date\b`)
		r.want(4, "db", "check")
		r.state(1, 3, 1, 3)
		if n := rollingTriggers(t, r.tdb); n == 0 {
			t.Fatal("db expand created no trigger")
		}
		next := startWriter(t, r.tdb, "new", 200000)
		time.Sleep(200 * time.Millisecond)
		r.want(1, "db", "contract") // the data migration has not run

		r.want(4, "db", "migrate", "--max-rows", "100", "--batch-delay", "2ms")
		if migrated, most := r.counters(); migrated == 0 || migrated > 150 || most != 1 {
			t.Fatalf("after db migrate --max-rows 100: %d accounts migrated, at most %d times each; want 1 to 150, once each", migrated, most)
		}
		r.want(4, "db", "check")
		r.want(1, "db", "contract") // the data migration is not done

		// The service is not held up for a whole run: while one runs, both releases' inserts
		// keep landing between its batches (on SQLite too, which has one writer at a time).
		// Once they have been seen to, the run is killed, as a node dying mid-upgrade: the
		// batch it was running rolls back and the next run goes on.
		run := exec.Command(ratchetBin, r.args("db", "migrate", "--max-rows", "1000", "--batch-delay", "10ms")...)
		var runOut bytes.Buffer
		run.Stdout, run.Stderr = &runOut, &runOut
		if err := run.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { run.Wait(); close(done) }()
		inserted := func() int { return rollingCount(t, r.tdb.DB, "SELECT count(*) FROM accounts WHERE id > 3000") }
		seen, rises := inserted(), 0
	watch:
		for {
			select {
			case <-done:
				break watch
			case <-time.After(20 * time.Millisecond):
				if n := inserted(); n > seen {
					seen, rises = n, rises+1
				}
				if rises == 3 {
					run.Process.Signal(syscall.SIGKILL)
				}
			}
		}
		if code := run.ProcessState.ExitCode(); code != 4 && code != 0 && code != -1 {
			t.Fatalf("db migrate --max-rows 1000 exited %d:\n%s", code, runOut.String())
		}
		if rises < 3 {
			t.Errorf("while db migrate ran, the writers' inserts were seen to grow %d times; want them to go on between batches", rises)
		}
		if _, most := r.counters(); most > 1 {
			t.Fatalf("the killed db migrate left an account migrated %d times", most)
		}
		r.checkpointAgrees("after db migrate was killed while both releases wrote")
		stops := 0
		for {
			res := runRatchet(t, r.args("db", "migrate", "--max-rows", "1000", "--batch-delay", "2ms")...)
			if res.code == 0 {
				r.stdout(res, `(?m)^Migrated \d+ rows \((v2 \d+, )?v3 \d+\)`)
				break
			}
			if res.code != 4 || stops == 10 {
				t.Fatalf("%s\nwant exit 4 (more to migrate) or 0, and 0 within 10 runs of 1000 rows", res)
			}
			stops++
			r.want(4, "db", "check")
		}
		if stops == 0 {
			t.Error("db migrate --max-rows 1000 never stopped with exit 4 before the last of 3000 accounts")
		}
		r.stdout(r.want(0, "db", "migrate"), `(?m)^Database migration is up to date\b`)
		r.want(5, "db", "check")
		r.state(1, 3, 3, 3)

		// Both releases serve for a while, as during the rolling restart.
		time.Sleep(500 * time.Millisecond)
		old.alive("while both releases wrote")
		next.alive("while both releases wrote")
		if n := r.unmapped(); n != 0 {
			t.Errorf("%d accounts have name and display_name apart while both releases write", n)
		}
		oldWrites := old.stop()
		if n := r.unmapped(); n != 0 {
			t.Errorf("%d accounts have name and display_name apart once the previous release stopped", n)
		}
		r.want(5, "db", "check")

		r.stdout(r.want(0, "db", "contract"), `(?m)^Contracted database to 3\.$`)
		r.want(0, "db", "check")
		r.state(3, 3, 3, -1)
		time.Sleep(200 * time.Millisecond)
		newWrites := next.stop()

		if missing := rollingMissing(t, r.tdb, append(oldWrites.Inserted, newWrites.Inserted...)); len(missing) > 0 {
			t.Errorf("%d acknowledged inserts are missing: %v", len(missing), missing)
		}
		cols := rollingColumns(t, r.tdb)
		if _, ok := cols["name"]; ok || cols["display_name"] != "NO" {
			t.Errorf("after contract accounts has columns %v; want display_name NOT NULL and no name", cols)
		}
		if n := rollingTriggers(t, r.tdb); n != 0 {
			t.Errorf("%d triggers or functions are left after contract", n)
		}
		if _, most := r.counters(); most > 1 {
			t.Errorf("an account was migrated %d times", most)
		}
		// Seeded accounts neither writer touched were migrated by db migrate, once, and
		// every note was.
		if n := rollingCount(t, r.tdb.DB, "SELECT count(*) FROM accounts WHERE id <= 3000 AND id % 10 <> 0 AND migrations <> 1"); n != 0 {
			t.Errorf("%d seeded accounts no writer touched were not migrated exactly once", n)
		}
		if n := rollingCount(t, r.tdb.DB, "SELECT count(*) FROM notes WHERE migrations <> 1 OR slug IS NULL"); n != 0 {
			t.Errorf("%d notes were not migrated exactly once", n)
		}
		t.Logf("the previous release inserted %d and updated %d accounts (%d retries, the longest statement %v); the next inserted %d and updated %d (%d retries, %v)",
			len(oldWrites.Inserted), oldWrites.Updates, oldWrites.Retries, oldWrites.Longest, len(newWrites.Inserted), newWrites.Updates, newWrites.Retries, newWrites.Longest)
	})
}

// TestRollingCheckMoments walks each database through the moments of ROLLING.md §3 with a
// window of two rolling versions: `db check` and `db version --output json` must say at each
// what is recorded and what comes next, and `db migrate` name the rows of each version.
func TestRollingCheckMoments(t *testing.T) {
	rollingEach(t, func(t *testing.T, r rollingDB) {
		r.want(0, "db", "sync", "1")
		r.want(3, "db", "check")
		r.state(1, 1, 1, -1)
		r.want(0, "db", "expand")
		r.want(4, "db", "check")
		r.state(1, 3, 1, 3)
		// Version 2's 3,000 accounts and two batches of version 3's notes: the limit
		// stops the run inside version 3, with version 2 migrated.
		res := r.want(4, "db", "migrate", "--max-rows", "3100")
		r.stdout(res, `(?m)^Migrated 3100 rows \(v2 3000, v3 100\)$`)
		r.want(4, "db", "check")
		r.state(1, 3, 2, 3)
		r.stdout(r.want(0, "db", "migrate"), `(?m)^Migrated 900 rows \(v3 900\)`)
		r.want(5, "db", "check")
		r.state(1, 3, 3, 3)
		r.stdout(r.want(0, "db", "contract"), `(?m)^Contracted database to 3\.$`)
		r.want(0, "db", "check")
		r.state(3, 3, 3, -1)
	})
}

// rollingDropOne drops, on each dialect, one of the triggers version 2's expand creates.
var rollingDropOne = map[string]string{
	"sqlite":     "DROP TRIGGER ratchet_v002_accounts_name",
	"postgresql": "DROP TRIGGER ratchet_v002_accounts_sync ON accounts",
	"mysql":      "DROP TRIGGER ratchet_v002_accounts_bu",
}

// TestRollingCheckMissingTrigger drops one of the open window's triggers: the two releases'
// columns would silently drift apart, so `db check` must exit 1 naming it (ROLLING.md §2.4,
// §2.6).
func TestRollingCheckMissingTrigger(t *testing.T) {
	rollingEach(t, func(t *testing.T, r rollingDB) {
		r.want(0, "db", "sync", "1")
		r.want(0, "db", "expand")
		if _, err := r.tdb.DB.Exec(rollingDropOne[r.tdb.Dialect.Name()]); err != nil {
			t.Fatal(err)
		}
		res := r.want(1, "db", "check")
		trigger := strings.Fields(rollingDropOne[r.tdb.Dialect.Name()])[2]
		if !strings.Contains(res.stdout+res.stderr, trigger) {
			t.Errorf("%s\nwant the missing trigger %s named", res, trigger)
		}
	})
}

// TestRollingOfflineMatchesOnline applies the rolling repository three ways on each
// database: offline with `db sync`, online with `db expand`, `db migrate` and `db contract`,
// and with `db sync` finishing an upgrade that `db expand` opened. All three must end with
// the same schema and rows, at version 3, and without a trigger.
func TestRollingOfflineMatchesOnline(t *testing.T) {
	rollingEach(t, func(t *testing.T, offline rollingDB) {
		offline.want(0, "db", "sync")
		if n := rollingTriggers(t, offline.tdb); n != 0 {
			t.Errorf("the offline db sync left %d triggers or functions", n)
		}
		online := offline.another()
		online.want(0, "db", "sync", "1")
		online.want(0, "db", "expand")
		online.want(0, "db", "migrate")
		online.want(0, "db", "contract")
		finished := offline.another()
		finished.want(0, "db", "sync", "1")
		finished.want(0, "db", "expand")
		finished.want(0, "db", "sync")

		want := rollingCatalog(t, offline.tdb)
		for what, r := range map[string]rollingDB{"db expand, migrate, contract": online, "db sync after db expand": finished} {
			r.state(3, 3, 3, -1)
			if d := cmp.Diff(want, rollingCatalog(t, r.tdb)); d != "" {
				t.Errorf("the schema after %s differs from the offline db sync's (-offline +%s):\n%s", what, what, d)
			}
			if got, want := rollingRows(t, r.tdb), rollingRows(t, offline.tdb); got != want {
				t.Errorf("the rows after %s differ from the offline db sync's", what)
			}
		}
		offline.state(3, 3, 3, -1)
	})
}

// TestRollingInterruptMigrate interrupts `db migrate` with SIGINT, as Ctrl-C does, once it
// has migrated some accounts: it must exit 130 and say so, with the batch it was running
// rolled back and its record agreeing with the accounts; a run with --max-duration then
// stops with exit 4, and the next run completes, each account migrated once.
func TestRollingInterruptMigrate(t *testing.T) {
	rollingEach(t, func(t *testing.T, r rollingDB) {
		r.want(0, "db", "sync", "1")
		r.want(0, "db", "expand")
		cmd := exec.Command(ratchetBin, r.args("db", "migrate", "--batch-delay", "20ms")...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() })
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if migrated, _ := r.counters(); migrated > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("db migrate migrated nothing within 20 s\nstdout:\n%sstderr:\n%s", stdout.String(), stderr.String())
			}
		}
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		res := cmdResult{cmdline: strings.Join(cmd.Args, " "), code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
		if res.code != 130 || !strings.Contains(res.stderr, "interrupted") {
			t.Fatalf("%s\nwant exit 130, saying it was interrupted", res)
		}
		migrated, most := r.counters()
		if most != 1 || migrated == rollingSeeded {
			t.Fatalf("%s\nleft %d accounts migrated, at most %d times each; want some, once each", res, migrated, most)
		}
		r.checkpointAgrees(res.String())
		// A run stopped by its time limit exits 4 and says which limit stopped it.
		res = r.want(4, "db", "migrate", "--max-duration", "30ms", "--batch-delay", "20ms")
		if !strings.Contains(res.stderr, "--max-duration") {
			t.Errorf("%s\nwant the message to name --max-duration", res)
		}
		r.want(0, "db", "migrate")
		if n := rollingCount(t, r.tdb.DB, "SELECT count(*) FROM accounts WHERE migrations <> 1"); n != 0 {
			t.Errorf("%d accounts were not migrated exactly once", n)
		}
		r.want(5, "db", "check")
	})
}

// TestRollingConcurrent runs each of db expand, db migrate and db contract as three
// processes at once: they take turns, each finding the work done or going on with what is
// left (DESIGN.md §5). All exit 0, the migrate runs' reports add up to every row once, no row
// is migrated twice, and the database ends at version 3.
func TestRollingConcurrent(t *testing.T) {
	rollingEach(t, func(t *testing.T, r rollingDB) {
		r.want(0, "db", "sync", "1")
		reported := 0
		for _, phase := range rollingPhases {
			results := make([]cmdResult, 3)
			var wg sync.WaitGroup
			for i := range results {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = runRatchet(t, r.args(rollingPhaseArgs(phase)...)...)
				}()
			}
			wg.Wait()
			for _, res := range results {
				if res.code != 0 {
					t.Errorf("%s\nwant exit 0", res)
				}
				for _, m := range rollingMigrated.FindAllStringSubmatch(res.stdout, -1) {
					n, _ := strconv.Atoi(m[1])
					reported += n
				}
			}
		}
		if reported != rollingSeeded+rollingNotes {
			t.Errorf("the migrate runs reported %d rows migrated in all, want %d", reported, rollingSeeded+rollingNotes)
		}
		for _, table := range []string{"accounts", "notes"} {
			if n := rollingCount(t, r.tdb.DB, "SELECT count(*) FROM "+table+" WHERE migrations <> 1"); n != 0 {
				t.Errorf("%d %s were not migrated exactly once", n, table)
			}
		}
		r.want(0, "db", "check")
		r.state(3, 3, 3, -1)
	})
}

// rollingMigrated matches the line of `db migrate` that counts the rows it migrated.
var rollingMigrated = regexp.MustCompile(`(?m)^Migrated (\d+) rows? \(`)

// rollingRows returns the rows of accounts and notes as text.
func rollingRows(t *testing.T, tdb *testdb.DB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{"SELECT id, display_name, migrations FROM accounts ORDER BY id", "SELECT id, slug, migrations FROM notes ORDER BY id"} {
		out, err := queryText(tdb.DB, q)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(out)
	}
	return b.String()
}
