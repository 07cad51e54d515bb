package main

import (
	"strings"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// TestLeaseLostDuringDataMigration blocks the lease's renewal while `db migrate` moves
// rows in batches: the run stops before its next batch with an error that says the lease
// was lost, every batch it committed is in the window's checkpoint, `db check` still says
// that migrate comes next, and the next `db migrate` finishes, each row migrated once.
func TestLeaseLostDuringDataMigration(t *testing.T) {
	repo := rollingRepo(t)
	for _, name := range []string{"postgresql", "mysql"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := rollingDB{t: t, repo: repo, tdb: testdb.New(t, name)}
			lease := []string{"--lock", "lease", "--lease-duration", "1s"}
			r.want(0, append(lease, "db", "sync", "1")...)
			r.want(0, append(lease, "db", "expand")...)
			cmd, stdout, stderr := startRatchet(t, r.args(append(lease, "db", "migrate", "--batch-size", "50", "--batch-delay", "20ms")...)...)
			time.Sleep(300 * time.Millisecond)
			blocker := blockLease(t, r.tdb.DB)
			err := cmd.Wait()
			blocker.Rollback()
			if cmd.ProcessState.ExitCode() == 0 || !strings.Contains(stderr.String(), "the migration lock's lease was lost") {
				t.Fatalf("db migrate ended with %v; want a failure saying the lease was lost\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
			}
			t.Logf("db migrate exited %d: %s", cmd.ProcessState.ExitCode(), strings.TrimSpace(stderr.String()))
			if migrated, most := r.counters(); migrated == 0 || migrated == rollingSeeded || most != 1 {
				t.Fatalf("the stopped run migrated %d accounts, at most %d times each; want some, not all, once each", migrated, most)
			}
			r.checkpointAgrees("after db migrate lost its lease")
			r.want(4, append(lease, "db", "check")...)
			r.want(0, append(lease, "db", "migrate")...)
			r.want(5, append(lease, "db", "check")...)
			if _, most := r.counters(); most != 1 {
				t.Fatalf("an account was migrated %d times", most)
			}
			r.want(0, append(lease, "db", "contract")...)
			r.state(3, 3, 3, -1)
		})
	}
}
