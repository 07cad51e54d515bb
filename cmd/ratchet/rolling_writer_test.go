package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/dburl"
	"github.com/ratchetdb/ratchet/internal/testdb"
)

// A writer is a process of its own, the test binary run again, that plays one release of
// the service on the rolling repository's accounts: "old" (the release before version 2)
// writes only name, "new" only display_name. It inserts accounts (ids from its first id on)
// and updates its own and the seeded accounts whose id is a multiple of 10, on its own
// connection, until its stdin is closed; then it prints what it did as JSON and exits.

// The writer's environment.
const (
	rollingWriterRole  = "RATCHET_ROLLING_WRITER" // "old" or "new"
	rollingWriterURL   = "RATCHET_ROLLING_DATABASE"
	rollingWriterFirst = "RATCHET_ROLLING_FIRST_ID"
)

func init() {
	// The test binary, run as a writer, does nothing else.
	if role := os.Getenv(rollingWriterRole); role != "" {
		os.Exit(rollingWriterMain(role, os.Getenv(rollingWriterURL), os.Getenv(rollingWriterFirst)))
	}
}

// rollingWrites is what a writer reports when it stops.
type rollingWrites struct {
	Inserted []int `json:"inserted"` // ids of the acknowledged inserts
	Updates  int   `json:"updates"`
	Retries  int   `json:"retries"` // statements run again after a deadlock or lock timeout
	// Longest is the longest a statement took, waits for locks included: how long the
	// service was held up at worst.
	Longest time.Duration `json:"longest"`
}

// rollingRetryable are the errors a service retries: deadlocks and lock timeouts, after which
// the database has rolled the statement back.
var rollingRetryable = map[string]bool{"40P01": true, "40001": true, "55P03": true, "1213": true, "1205": true}

func rollingWriterMain(role, url, first string) int {
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "%s writer: %v\n", role, err)
		return 1
	}
	next, err := strconv.Atoi(first)
	if err != nil {
		return fail(err)
	}
	column := map[string]string{"old": "name", "new": "display_name"}[role]
	if column == "" {
		return fail(fmt.Errorf("unknown role %q", role))
	}
	u, err := dburl.Parse(url)
	if err != nil {
		return fail(err)
	}
	d, _ := dialect.ByName(u.Dialect)
	db, err := testdb.Connect(url) // SQLite: a busy timeout of 20 s, as a service sets one
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	insert := fmt.Sprintf("INSERT INTO accounts (id, %s) VALUES (%s, %s)", column, d.Param(1), d.Param(2))
	update := fmt.Sprintf("UPDATE accounts SET %s = %s WHERE id = %s", column, d.Param(1), d.Param(2))

	stop := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(stop)
	}()
	var w rollingWrites
	exec := func(q string, args ...any) error {
		for {
			start := time.Now()
			_, err := db.Exec(q, args...)
			w.Longest = max(w.Longest, time.Since(start))
			if err == nil || !rollingRetryable[testdb.Drivers[d].ErrorCode(err)] {
				return err
			}
			w.Retries++
		}
	}
	rng := rand.New(rand.NewPCG(uint64(next), uint64(time.Now().UnixNano())))
	for op := 0; ; op++ {
		select {
		case <-stop:
			out := bufio.NewWriter(os.Stdout)
			if err := json.NewEncoder(out).Encode(w); err != nil {
				return fail(err)
			}
			if err := out.Flush(); err != nil {
				return fail(err)
			}
			return 0
		default:
		}
		value := fmt.Sprintf("%s-%d", role, op)
		if op%3 == 0 {
			if err := exec(insert, next, value); err != nil {
				return fail(fmt.Errorf("inserting %d: %w", next, err))
			}
			w.Inserted = append(w.Inserted, next)
			next++
		} else {
			id := 10 * (1 + rng.IntN(rollingSeeded/10))
			if len(w.Inserted) > 0 && rng.IntN(2) == 0 {
				id = w.Inserted[rng.IntN(len(w.Inserted))]
			}
			if err := exec(update, value, id); err != nil {
				return fail(fmt.Errorf("updating %d: %w", id, err))
			}
			w.Updates++
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// rollingWriter is a running writer process.
type rollingWriter struct {
	t      *testing.T
	role   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *lockedBuffer
	stderr *lockedBuffer
	done   chan error
}

// startWriter starts a writer of the role on tdb, inserting from id first on.
func startWriter(t *testing.T, tdb *testdb.DB, role string, first int) *rollingWriter {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), rollingWriterRole+"="+role, rollingWriterURL+"="+tdb.URL, rollingWriterFirst+"="+strconv.Itoa(first))
	w := &rollingWriter{t: t, role: role, cmd: cmd, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = w.stdout, w.stderr
	var err error
	if w.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	return w
}

// alive fails the test if the writer has ended: a writer only ends when told to, so it
// has met an error it could not retry.
func (w *rollingWriter) alive(when string) {
	w.t.Helper()
	select {
	case err := <-w.done:
		w.done <- err
		w.t.Fatalf("the %s writer ended %s: %v\n%s", w.role, when, err, w.stderr.String())
	default:
	}
}

// stop tells the writer to stop and returns what it did.
func (w *rollingWriter) stop() rollingWrites {
	w.t.Helper()
	w.alive("before it was stopped")
	w.stdin.Close()
	select {
	case err := <-w.done:
		if err != nil {
			w.t.Fatalf("the %s writer: %v\n%s", w.role, err, w.stderr.String())
		}
	case <-time.After(60 * time.Second):
		w.t.Fatalf("the %s writer did not stop within 60 s", w.role)
	}
	var got rollingWrites
	if err := json.Unmarshal([]byte(w.stdout.String()), &got); err != nil {
		w.t.Fatalf("the %s writer's report %q: %v", w.role, w.stdout.String(), err)
	}
	if len(got.Inserted) == 0 || got.Updates == 0 {
		w.t.Fatalf("the %s writer inserted %d and updated %d accounts; it must do both", w.role, len(got.Inserted), got.Updates)
	}
	return got
}

// rollingMissing returns the ids of acknowledged inserts that are not in accounts.
func rollingMissing(t *testing.T, tdb *testdb.DB, ids []int) []int {
	t.Helper()
	rows, err := tdb.DB.Query("SELECT id FROM accounts")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	have := map[int]bool{}
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		have[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var missing []int
	for _, id := range ids {
		if !have[id] {
			missing = append(missing, id)
		}
	}
	return missing
}
