package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// statusWhileRunning starts `db sync` of a killRepo through url with args and, while its
// second version runs, requires `db check` through statusURL to say nothing of an interrupted
// version, and returns what `db status --output json` through statusURL says of
// version 2.
func statusWhileRunning(t *testing.T, url, statusURL string, args ...string) string {
	t.Helper()
	repo := killRepo(t)
	base := append([]string{"--repository", repo, "--database", url}, args...)
	cmd, _, stderr := startPastFirstVersion(t, append(base, "db", "sync")...)
	base[3] = statusURL
	defer func() {
		if err := cmd.Wait(); err != nil {
			t.Errorf("db sync: %v\n%s", err, stderr.String())
		}
	}()
	// db check must not send the operator to resume a version that is running.
	if check := runRatchet(t, append(base, "db", "check")...); strings.Contains(check.stdout+check.stderr, "interrupted") {
		t.Errorf("%s\nwant no word of an interrupted version while a run applies it", check)
	}
	res := runRatchet(t, append(base, "--output", "json", "db", "status")...)
	var st struct {
		Versions []struct {
			Version int
			State   string
		}
	}
	if err := json.Unmarshal([]byte(res.stdout), &st); err != nil {
		t.Fatalf("%s\n%v", res, err)
	}
	for _, v := range st.Versions {
		if v.Version == 2 {
			return v.State
		}
	}
	t.Fatalf("%s\nno state for version 2", res)
	return ""
}

// TestLeaseStatusSaysRunning runs `db status` while a run holding the lease applies a
// journalled version: the version is running, as it is under the advisory lock, not
// stopped (which would send the operator to `db sync --resume` while the run goes on).
func TestLeaseStatusSaysRunning(t *testing.T) {
	for _, lock := range []string{"advisory", "lease"} {
		t.Run(lock, func(t *testing.T) {
			tdb := testdb.New(t, "mysql")
			if got := statusWhileRunning(t, tdb.URL, tdb.URL, "--lock", lock, "--lease-duration", "3s"); got != "running" {
				t.Errorf("db status says version 2 is %s while a run under the %s lock applies it; want running", got, lock)
			}
		})
	}
}

// TestGaleraStatusSaysRunning runs `db status` through node 1 while a run through node 0
// applies a journalled version: it is running.
func TestGaleraStatusSaysRunning(t *testing.T) {
	c := testdb.SharedCluster(t)
	name, err := c.CreateDB()
	if err != nil {
		t.Fatal(err)
	}
	if got := statusWhileRunning(t, c.NodeURL(0, name), c.NodeURL(1, name), "--lease-duration", "3s"); got != "running" {
		t.Errorf("db status says version 2 is %s while a run applies it; want running", got)
	}
}

// TestLeaseRefusalLeavesNoTable runs, with --lock lease on a fresh database of each server,
// requests that are refused: a version the repository lacks, and the later phases of a
// rolling upgrade before its expand. Each must leave the database as it found it, with no
// table, as it does under the advisory lock.
func TestLeaseRefusalLeavesNoTable(t *testing.T) {
	repo := rollingRepo(t)
	for _, name := range []string{"postgresql", "mysql"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tdb := testdb.New(t, name)
			for _, args := range [][]string{{"db", "sync", "9"}, {"db", "migrate"}, {"db", "contract"}} {
				for _, lock := range []string{"advisory", "lease"} {
					res := runRatchet(t, append([]string{"--repository", repo, "--database", tdb.URL, "--lock", lock}, args...)...)
					if res.code == 0 {
						t.Fatalf("%s\nwant a refusal", res)
					}
					if tables := listTables(t, tdb.DB, tdb.Dialect); len(tables) != 0 {
						t.Fatalf("%s\nthe refused request left the tables %v; want none", res, tables)
					}
				}
			}
		})
	}
}
