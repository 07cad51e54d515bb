package main

import (
	"database/sql"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/testdb"
)

// The tests in this file run the rolling upgrade of rolling_repo_test.go through the binary
// where the migration lock is the lease: on the shared Galera cluster, each command through
// another node and two of each phase at once on two nodes, and through PgBouncer in
// transaction mode. The previous release writes through one node and the next through
// another while the upgrade goes on; `db migrate` runs for several lease lengths, so that
// only the heartbeat keeps it going.

// rollingEndpoints runs the rolling repository through several URLs of one database: the
// nodes of a cluster, or a pooler's.
type rollingEndpoints struct {
	t     *testing.T
	repo  string
	nodes []rollingDB
	lease []string // the lock's arguments every command takes
}

// run runs ratchet through endpoint i.
func (e rollingEndpoints) run(i int, args ...string) cmdResult {
	e.t.Helper()
	n := e.nodes[i%len(e.nodes)]
	return runRatchet(e.t, n.args(append(append([]string{}, e.lease...), args...)...)...)
}

// want runs ratchet through endpoint i and requires the exit code.
func (e rollingEndpoints) want(i, code int, args ...string) cmdResult {
	e.t.Helper()
	res := e.run(i, args...)
	if res.code != code {
		e.t.Fatalf("%s\nwant exit %d", res, code)
	}
	return res
}

// both runs the same command through endpoints i and j at once, and requires both to exit
// 0: one waits for the other's lease, then finds the phase done or finishes it.
func (e rollingEndpoints) both(i, j int, args ...string) [2]cmdResult {
	e.t.Helper()
	var res [2]cmdResult
	var wg sync.WaitGroup
	for k, n := range []int{i, j} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[k] = e.run(n, args...)
		}()
	}
	wg.Wait()
	for _, r := range res {
		if r.code != 0 {
			e.t.Fatalf("%s\nwant exit 0 for both of two concurrent runs:\n%s\n%s", r, res[0], res[1])
		}
	}
	return res
}

// rollingThroughEndpoints upgrades a database at version 1 to version 3 the rolling way,
// every command through another endpoint, while the previous release writes through the
// endpoint oldAt and the next through newAt; read is a connection whose reads see every
// committed write.
func rollingThroughEndpoints(t *testing.T, e rollingEndpoints, read *sql.DB, oldAt, newAt int) {
	e.want(0, 0, "db", "sync", "1")
	old := startWriter(t, e.nodes[oldAt%len(e.nodes)].tdb, "old", 100000)
	time.Sleep(200 * time.Millisecond)

	res := e.both(1, 2, "db", "expand")
	expanded := regexp.MustCompile(`(?m)^2 expand `)
	if n := len(expanded.FindAllString(res[0].stdout+res[1].stdout, -1)); n != 1 {
		t.Fatalf("of two concurrent db expand, %d expanded version 2; want one:\n%s\n%s", n, res[0], res[1])
	}
	e.want(0, 4, "db", "check")
	next := startWriter(t, e.nodes[newAt%len(e.nodes)].tdb, "new", 200000)
	time.Sleep(200 * time.Millisecond)
	e.want(1, 1, "db", "contract") // the data migration has not run

	// db migrate for several lease lengths (1s), through two endpoints at once: the one
	// that waits finds the migration done. Meanwhile the lease's expiry must move on.
	lease := rollingCount(t, read, "SELECT count(*) FROM ratchet_lock")
	if lease != 0 {
		t.Fatalf("%d leases are held between runs; want none", lease)
	}
	expiry := "SELECT CAST(expires AS CHAR(64)) FROM ratchet_lock"
	if e.nodes[0].tdb.Dialect == dialect.Postgres {
		expiry = "SELECT CAST(expires AS TEXT) FROM ratchet_lock"
	}
	expiries := map[string]bool{}
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			var exp string
			if err := read.QueryRow(expiry).Scan(&exp); err == nil {
				expiries[exp] = true
			}
		}
	}()
	start := time.Now()
	res = e.both(2, 0, "db", "migrate", "--batch-size", "100", "--batch-delay", "50ms")
	took := time.Since(start)
	close(stop)
	<-watched
	if took < 3*time.Second {
		t.Errorf("db migrate took %v; the test wants it to outlast the 1s lease several times", took)
	}
	if len(expiries) < 4 {
		t.Errorf("while db migrate ran for %v, the lease's expiry took %d values; want it renewed every quarter second", took, len(expiries))
	}
	e.want(1, 5, "db", "check")
	if _, most := (rollingDB{t: t, tdb: &testdb.DB{DB: read}}).counters(); most != 1 {
		t.Fatalf("an account was migrated %d times; want once each", most)
	}
	old.alive("while both releases wrote")
	next.alive("while both releases wrote")
	time.Sleep(300 * time.Millisecond)
	oldWrites := old.stop()

	e.both(0, 1, "db", "contract")
	e.want(2, 0, "db", "check")
	e.want(0, 0, "db", "migrate")
	time.Sleep(200 * time.Millisecond)
	newWrites := next.stop()

	tdb := &testdb.DB{Dialect: e.nodes[0].tdb.Dialect, DB: read}
	if missing := rollingMissing(t, tdb, append(oldWrites.Inserted, newWrites.Inserted...)); len(missing) > 0 {
		t.Errorf("%d acknowledged inserts are missing: %v", len(missing), missing)
	}
	if cols := rollingColumns(t, tdb); cols["display_name"] != "NO" || cols["name"] != "" {
		t.Errorf("after contract accounts has columns %v; want display_name NOT NULL and no name", cols)
	}
	if n := rollingCount(t, read, "SELECT count(*) FROM accounts WHERE id <= 3000 AND id % 10 <> 0 AND migrations <> 1"); n != 0 {
		t.Errorf("%d seeded accounts no writer touched were not migrated exactly once", n)
	}
	if n := rollingCount(t, read, "SELECT count(*) FROM notes WHERE migrations <> 1 OR slug IS NULL"); n != 0 {
		t.Errorf("%d notes were not migrated exactly once", n)
	}
	if n := rollingCount(t, read, "SELECT count(DISTINCT version) FROM ratchet_history"); n != 3 {
		t.Errorf("ratchet_history records %d versions; want 3", n)
	}
	if n := rollingCount(t, read, "SELECT count(*) FROM ratchet_lock"); n != 0 {
		t.Errorf("%d leases are left; want none", n)
	}
	t.Logf("the previous release inserted %d and updated %d accounts (%d retries); the next inserted %d and updated %d (%d retries); db migrate took %v",
		len(oldWrites.Inserted), oldWrites.Updates, oldWrites.Retries, len(newWrites.Inserted), newWrites.Updates, newWrites.Retries, took.Round(time.Millisecond))
}

// TestGaleraRollingUpgrade upgrades a database on the Galera cluster the rolling way: two
// db expand at once through nodes 1 and 2, two db migrate at once through nodes 2 and 0 for
// several lease lengths, two db contract at once through nodes 0 and 1, every check through
// another node, while the previous release writes through node 1 and the next through node
// 2. Every phase runs once, no acknowledged write is lost, every row is migrated once.
func TestGaleraRollingUpgrade(t *testing.T) {
	c := testdb.SharedCluster(t)
	name, err := c.CreateDB()
	if err != nil {
		t.Fatal(err)
	}
	e := rollingEndpoints{t: t, repo: rollingRepo(t), lease: []string{"--lease-duration", "1s", "--lock-timeout", "60s"}}
	for i := range c.Size() {
		url := c.NodeURL(i, name)
		e.nodes = append(e.nodes, rollingDB{t: t, repo: e.repo, tdb: &testdb.DB{Dialect: dialect.MySQL, URL: url, Name: name}})
	}
	read := testdb.Open(t, c.NodeURL(0, name))
	read.SetMaxOpenConns(1)
	if _, err := read.Exec("SET SESSION wsrep_sync_wait = 7"); err != nil {
		t.Fatal(err)
	}
	rollingThroughEndpoints(t, e, read, 1, 2)
}

// TestPgBouncerRollingUpgrade upgrades a database through PgBouncer in transaction mode the
// rolling way with --lock lease, two runs of each phase at once, while both releases write
// through the pooler too.
func TestPgBouncerRollingUpgrade(t *testing.T) {
	tdb := testdb.New(t, "postgresql")
	pb := testdb.StartPgBouncer(t, tdb.URL)
	url := pb.URL(tdb.Name)
	e := rollingEndpoints{t: t, repo: rollingRepo(t), lease: []string{"--lock", "lease", "--lease-duration", "1s", "--lock-timeout", "60s"}}
	for range 3 {
		e.nodes = append(e.nodes, rollingDB{t: t, repo: e.repo, tdb: &testdb.DB{Dialect: dialect.Postgres, URL: url, Name: tdb.Name}})
	}
	rollingThroughEndpoints(t, e, tdb.DB, 0, 1)
}
