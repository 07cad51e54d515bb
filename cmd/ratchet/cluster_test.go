package main

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// clusterTrials is how many times the concurrent runs are repeated: 20 unless
// RATCHET_CLUSTER_TRIALS says more (the longer stress run the README describes).
func clusterTrials(t *testing.T) int {
	n := 20
	if s := os.Getenv("RATCHET_CLUSTER_TRIALS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			t.Fatalf("RATCHET_CLUSTER_TRIALS=%q: want a positive number", s)
		}
	}
	return n
}

// counterRepo writes a repository of n versions: the first creates a counter table, each
// version creates a table and adds its number to the counter, so that a version applied
// twice shows as a repeated number. noTx lists versions whose script runs outside a
// transaction (journalled on every dialect).
func counterRepo(t *testing.T, n int, noTx ...int) string {
	t.Helper()
	scripts := map[string]string{"001_counter_default_upgrade.sql": "CREATE TABLE counter (id INTEGER NOT NULL PRIMARY KEY, version INTEGER NOT NULL);\nINSERT INTO counter VALUES (1, 1);"}
	for v := 2; v <= n; v++ {
		body := fmt.Sprintf("CREATE TABLE t%d (id INTEGER NOT NULL PRIMARY KEY);\nINSERT INTO counter (id, version) SELECT COALESCE(MAX(id), 0) + 1, %d FROM counter;", v, v)
		for _, x := range noTx {
			if x == v {
				body = "-- ratchet:no-transaction\n" + body
			}
		}
		scripts[fmt.Sprintf("%03d_step_default_upgrade.sql", v)] = body
	}
	return writeRepo(t, scripts)
}

// checkExactlyOnce checks that every one of the n versions of a counterRepo was applied
// exactly once and recorded once, with no journal left and the lease released.
func checkExactlyOnce(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	var rows, distinct, version int
	if err := db.QueryRow("SELECT count(*), count(DISTINCT version) FROM counter").Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != n || distinct != n {
		t.Errorf("counter: %d rows, %d distinct versions; want each of the %d versions once", rows, distinct, n)
	}
	if err := db.QueryRow("SELECT version FROM migrate_version WHERE repository_id = 'process_test'").Scan(&version); err != nil || version != n {
		t.Errorf("recorded version %d (%v), want %d", version, err, n)
	}
	if err := db.QueryRow("SELECT count(*), count(DISTINCT version) FROM ratchet_history").Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != n || distinct != n {
		t.Errorf("ratchet_history: %d rows for %d versions, want one per version (%d)", rows, distinct, n)
	}
	for _, table := range []string{"ratchet_journal", "ratchet_lock"} {
		if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&rows); err == nil && rows != 0 {
			t.Errorf("%s has %d rows after every run ended", table, rows)
		}
	}
}

// syncResult is the outcome of one of the concurrent runs.
type syncResult struct {
	url string
	cmdResult
}

// concurrentSyncs runs `db sync` once through each URL, all at once, and returns how many
// versions they reported applied in all; every run must exit 0.
func concurrentSyncs(t *testing.T, repo string, urls []string, extra ...string) int {
	t.Helper()
	results := make([]syncResult, len(urls))
	var wg sync.WaitGroup
	for i, url := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := append([]string{"--repository", repo, "--database", url, "--lock-timeout", "120s"}, extra...)
			results[i] = syncResult{url, runRatchet(t, append(args, "db", "sync")...)}
		}()
	}
	wg.Wait()
	applied := 0
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("run %d of %d failed:\n%s", i+1, len(urls), r)
		}
		applied += strings.Count(r.stdout, " -> ")
	}
	return applied
}

// TestGaleraLocksAreNodeLocal starts a three-node cluster and shows why ratchet needs a lease
// there: GET_LOCK held on one node does not stop another node's session from taking the same
// lock, while a row written on one node is seen on the others (by a read that waits for it).
func TestGaleraLocksAreNodeLocal(t *testing.T) {
	c := testdb.SharedCluster(t)
	name, err := c.CreateDB()
	if err != nil {
		t.Fatal(err)
	}
	var got [2]int
	dbs := [2]*sql.DB{}
	for i := range dbs {
		dbs[i] = testdb.Open(t, c.NodeURL(i, name))
		dbs[i].SetMaxOpenConns(1)
	}
	for i, db := range dbs {
		if err := db.QueryRow("SELECT GET_LOCK('x', 1)").Scan(&got[i]); err != nil {
			t.Fatal(err)
		}
	}
	if got != [2]int{1, 1} {
		t.Errorf("GET_LOCK on two nodes = %v, want both taken (node-local locks)", got)
	}
	if _, err := dbs[0].Exec("CREATE TABLE r (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := dbs[0].Exec("INSERT INTO r VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	// Another node applies a write some time after it commits: a read there waits for it
	// only with causality checks on, which ratchet sets on its sessions.
	if _, err := dbs[1].Exec("SET SESSION wsrep_sync_wait = 1"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := dbs[1].QueryRow("SELECT count(*) FROM r").Scan(&n); err != nil || n != 1 {
		t.Errorf("node 2 sees %d rows (%v), want the row written on node 1", n, err)
	}
}

// TestGaleraConcurrentSyncs runs 8 `db sync` at once, spread over the three nodes of a
// Galera cluster, on a fresh database, again and again: each time every run exits 0 and
// every version is applied and recorded exactly once. ratchet finds the cluster by itself
// (wsrep_on) and takes the lease there; GET_LOCK, local to each node, would let runs on
// different nodes migrate at once.
func TestGaleraConcurrentSyncs(t *testing.T) {
	c := testdb.SharedCluster(t)
	const versions = 12
	repo := counterRepo(t, versions)
	trials := clusterTrials(t)
	start := time.Now()
	for trial := range trials {
		name, err := c.CreateDB()
		if err != nil {
			t.Fatal(err)
		}
		urls := make([]string, 8)
		for i := range urls {
			urls[i] = c.NodeURL(i%c.Size(), name)
		}
		if applied := concurrentSyncs(t, repo, urls, "--lease-duration", "5s"); applied != versions {
			t.Errorf("trial %d: the runs reported %d versions applied in all, want %d", trial+1, applied, versions)
		}
		// Read through the last node: what every node must agree on.
		db := testdb.Open(t, c.NodeURL(c.Size()-1, name))
		checkExactlyOnce(t, db, versions)
		if trial == 0 {
			checkPrimaryKeys(t, db, name)
		}
		db.Close()
		// Every node answers with the version the last run reached, at once.
		for i := range c.Size() {
			out := runRatchet(t, "--repository", repo, "--database", c.NodeURL(i, name), "db", "version").mustSucceed(t)
			if got := strings.TrimSpace(out); got != strconv.Itoa(versions) {
				t.Errorf("trial %d: db version through node %d = %s, want %d", trial+1, i+1, got, versions)
			}
		}
		if t.Failed() {
			t.Fatalf("trial %d of %d failed", trial+1, trials)
		}
	}
	t.Logf("%d trials of 8 concurrent runs over %d nodes in %v", trials, c.Size(), time.Since(start).Round(time.Millisecond))
}

// checkPrimaryKeys checks that every bookkeeping table has a primary key: Galera replicates
// rows by their key, and refuses or mangles writes to tables without one.
func checkPrimaryKeys(t *testing.T, db *sql.DB, schema string) {
	t.Helper()
	tables, err := testdb.Strings(db, `SELECT t.table_name FROM information_schema.tables t
WHERE t.table_schema = ? AND t.table_name IN ('migrate_version', 'ratchet_history', 'ratchet_journal', 'ratchet_lock')
	AND EXISTS (SELECT 1 FROM information_schema.table_constraints c
		WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name AND c.constraint_type = 'PRIMARY KEY')
ORDER BY t.table_name`, schema)
	if err != nil {
		t.Fatal(err)
	}
	if want := "migrate_version ratchet_history ratchet_journal ratchet_lock"; strings.Join(tables, " ") != want {
		t.Errorf("bookkeeping tables with a primary key: %v, want %s", tables, want)
	}
}

// TestGaleraSchemaUpgradeMethod: `db status` on a Galera node names how it replicates DDL
// and the lock ratchet takes there; on a node that replicates DDL by RSU (this node only),
// `db sync` refuses to write anything: ratchet's own tables would be created there alone.
func TestGaleraSchemaUpgradeMethod(t *testing.T) {
	c := testdb.SharedCluster(t)
	name, err := c.CreateDB()
	if err != nil {
		t.Fatal(err)
	}
	repo := counterRepo(t, 2)
	args := []string{"--repository", repo, "--database", c.NodeURL(1, name)}
	out := runRatchet(t, append(args, "db", "status")...).mustSucceed(t)
	for _, want := range []string{"Galera cluster node: DDL replicates by TOI (wsrep_OSU_method)", "migration lock: a lease in ratchet_lock"} {
		if !strings.Contains(out, want) {
			t.Errorf("db status does not say %q:\n%s", want, out)
		}
	}
	admin := testdb.Open(t, c.NodeURL(1, "mysql"))
	defer admin.Close()
	if _, err := admin.Exec("SET GLOBAL wsrep_OSU_method = 'RSU'"); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if _, err := admin.Exec("SET GLOBAL wsrep_OSU_method = 'TOI'"); err != nil {
			t.Error(err)
		}
	}()
	r := runRatchet(t, append(args, "db", "sync")...)
	if r.code != 1 || !strings.Contains(r.stderr, "replicates DDL by RSU") {
		t.Errorf("db sync on an RSU node: want exit 1 and a refusal naming RSU\n%s", r)
	}
	if out := runRatchet(t, append(args, "db", "status")...).mustSucceed(t); !strings.Contains(out, "RSU (wsrep_OSU_method): DDL would change this node only, so ratchet refuses") {
		t.Errorf("db status on an RSU node:\n%s", out)
	}
	for i := range c.Size() {
		db := testdb.Open(t, c.NodeURL(i, name))
		if tables, err := testdb.Strings(db, "SHOW TABLES"); err != nil || len(tables) != 0 {
			t.Errorf("node %d: tables after the refused run: %v (%v), want none", i+1, tables, err)
		}
		db.Close()
	}
}

// TestPgBouncerConcurrentSyncs runs 8 `db sync --lock lease` at once through PgBouncer in
// transaction mode, whose few server connections the runs share, on a fresh PostgreSQL
// database, again and again: every run exits 0 and every version, a journalled
// no-transaction one among them, is applied and recorded exactly once.
func TestPgBouncerConcurrentSyncs(t *testing.T) {
	const versions = 12
	repo := counterRepo(t, versions, 5)
	trials := clusterTrials(t)
	start := time.Now()
	for trial := range trials {
		// A trial of its own: its pooler and database go before the next one's come, and
		// the shared server's connections are not used up.
		t.Run(fmt.Sprintf("trial%d", trial+1), func(t *testing.T) {
			tdb := testdb.New(t, "postgresql")
			pb := testdb.StartPgBouncer(t, tdb.URL)
			urls := make([]string, 8)
			for i := range urls {
				urls[i] = pb.URL(tdb.Name)
			}
			if applied := concurrentSyncs(t, repo, urls, "--lock", "lease", "--lease-duration", "5s"); applied != versions {
				t.Errorf("the runs reported %d versions applied in all, want %d", applied, versions)
			}
			checkExactlyOnce(t, tdb.DB, versions)
		})
		if t.Failed() {
			t.Fatalf("trial %d of %d failed", trial+1, trials)
		}
	}
	t.Logf("%d trials of 8 concurrent runs through PgBouncer in %v", trials, time.Since(start).Round(time.Millisecond))
}

// killRepo is a repository whose second version spends a second in a group of DML
// statements (journalled together on MySQL), where a kill lands.
func killRepo(t *testing.T) string {
	t.Helper()
	return writeRepo(t, map[string]string{
		"001_first_default_upgrade.sql": "CREATE TABLE first (id INTEGER NOT NULL PRIMARY KEY);",
		"002_slow_default_upgrade.sql": "CREATE TABLE slow (id INTEGER NOT NULL PRIMARY KEY);\n" +
			"INSERT INTO slow VALUES (1);\nDO SLEEP(1);\nINSERT INTO slow VALUES (2);",
		"003_last_default_upgrade.sql": "CREATE TABLE last (id INTEGER NOT NULL PRIMARY KEY);",
	})
}

// leaseExpiry reads, as UTC text, when the lease in ratchet_lock expires.
func leaseExpiry(t *testing.T, db *sql.DB) string {
	t.Helper()
	var expires string
	if err := db.QueryRow("SELECT DATE_FORMAT(expires, '%Y-%m-%d %H:%i:%s.%f') FROM ratchet_lock").Scan(&expires); err != nil {
		t.Fatalf("reading the lease left behind: %v", err)
	}
	return expires
}

// takeOver finishes, through url, the migration a killed run (or a run on a killed node)
// left: `db sync`, and `db sync --resume` when the journal says that the version stopped
// part way. It checks that the new run took the lease only after it expired, and that
// every version ends up applied once.
func takeOver(t *testing.T, repo, url, expires string) {
	t.Helper()
	args := []string{"--repository", repo, "--database", url, "--lock-timeout", "60s", "--lease-duration", "3s"}
	r := runRatchet(t, append(args, "db", "sync")...)
	if r.code != 0 {
		if r.code != 1 || !strings.Contains(r.stderr, "db sync --resume") {
			t.Fatalf("the run after the kill:\n%s", r)
		}
		t.Logf("the journal asks to resume: %s", strings.TrimSpace(r.stderr))
		runRatchet(t, append(args, "db", "sync", "--resume")...).mustSucceed(t)
	}
	db := testdb.Open(t, url)
	defer db.Close()
	var started string
	if err := db.QueryRow("SELECT DATE_FORMAT(MIN(applied_at), '%Y-%m-%d %H:%i:%s.%f') FROM ratchet_history WHERE version >= 2").Scan(&started); err != nil {
		t.Fatal(err)
	}
	// applied_at is the client's clock, the expiry the cluster's: the same machine here.
	if started < expires {
		t.Errorf("version 2 or later was applied at %s, before the killed run's lease expired at %s", started, expires)
	}
	var slow, distinct, versions int
	if err := db.QueryRow("SELECT count(*), count(DISTINCT version) FROM ratchet_history").Scan(&versions, &distinct); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT count(*) FROM slow").Scan(&slow); err != nil {
		t.Fatal(err)
	}
	if versions != 3 || distinct != 3 || slow != 2 {
		t.Errorf("history: %d rows for %d versions, slow: %d rows; want 3, 3 and 2", versions, distinct, slow)
	}
	for _, table := range []string{"ratchet_journal", "ratchet_lock"} {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d rows (%v), want none", table, n, err)
		}
	}
}

// startOnCluster starts `db sync` of a killRepo on a fresh database through node i of the
// shared cluster, with a 3s lease, and returns it running its second version.
func startOnCluster(t *testing.T, i int) (c *testdb.Cluster, name, repo string, cmd *exec.Cmd, stdout, stderr *lockedBuffer) {
	t.Helper()
	c = testdb.SharedCluster(t)
	name, err := c.CreateDB()
	if err != nil {
		t.Fatal(err)
	}
	repo = killRepo(t)
	cmd, stdout, stderr = startPastFirstVersion(t, "--repository", repo, "--database", c.NodeURL(i, name), "--lease-duration", "3s", "db", "sync")
	return c, name, repo, cmd, stdout, stderr
}

// TestGaleraKilledRunLeaseTakenOver kills `db sync` (SIGKILL) in the middle of a version
// on node 1. Its lease stays until it expires: a run on node 2 with a shorter lock timeout
// gives up, naming the dead holder; a run that waits takes over once the lease has expired,
// not before, and finishes the migration, every version applied once.
func TestGaleraKilledRunLeaseTakenOver(t *testing.T) {
	c, name, repo, cmd, stdout, stderr := startOnCluster(t, 0)
	pid := cmd.Process.Pid
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("the run finished before the kill: %s %s", stdout, stderr)
	}
	db := testdb.Open(t, c.NodeURL(1, name))
	defer db.Close()
	expires := leaseExpiry(t, db)
	r := runRatchet(t, "--repository", repo, "--database", c.NodeURL(1, name), "--lock-timeout", "500ms", "db", "sync")
	want := fmt.Sprintf("lock not acquired within 500ms; held by pid %d on ", pid)
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("a run while the dead holder's lease is valid: want exit 1 and %q\n%s", want, r)
	}
	takeOver(t, repo, c.NodeURL(1, name), expires)
}

// TestGaleraKilledNode kills (SIGKILL) the Galera node a `db sync` works through, in the
// middle of a version: the run fails cleanly, and a run through a surviving node takes over
// once the lease has expired and finishes, every version applied once. The node then
// rejoins the cluster.
func TestGaleraKilledNode(t *testing.T) {
	c, name, repo, cmd, stdout, stderr := startOnCluster(t, 2)
	if err := c.Kill(2); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Restart(2); err != nil {
			t.Errorf("node 3 did not rejoin: %v", err)
		}
	})
	err := cmd.Wait()
	if cmd.ProcessState.ExitCode() != 1 || !strings.HasPrefix(stderr.String(), "ratchet: ") {
		t.Errorf("the run on the killed node ended with %v; want exit 1 and an error\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	db := testdb.Open(t, c.NodeURL(0, name))
	defer db.Close()
	takeOver(t, repo, c.NodeURL(0, name), leaseExpiry(t, db))
}

// TestLeaseLostStopsTheRun holds the lease's row locked from another session while a run
// works, so that its heartbeat cannot renew the lease: the run stops before its next version
// with an error that says so, keeps the versions it applied, and a later run finishes.
func TestLeaseLostStopsTheRun(t *testing.T) {
	repo := writeRepo(t, map[string]string{
		"001_first_default_upgrade.sql":   "CREATE TABLE first (id INTEGER NOT NULL PRIMARY KEY);",
		"002_slow_mysql_upgrade.sql":      "CREATE TABLE slow (id INTEGER NOT NULL PRIMARY KEY);\nDO SLEEP(2);",
		"002_slow_postgresql_upgrade.sql": "CREATE TABLE slow (id INTEGER NOT NULL PRIMARY KEY);\nSELECT pg_sleep(2);",
		"003_last_default_upgrade.sql":    "CREATE TABLE last (id INTEGER NOT NULL PRIMARY KEY);",
	})
	for _, name := range []string{"postgresql", "mysql"} {
		t.Run(name, func(t *testing.T) {
			tdb := testdb.New(t, name)
			args := []string{"--repository", repo, "--database", tdb.URL, "--lock", "lease", "--lease-duration", "1s"}
			cmd, stdout, stderr := startRatchet(t, append(args, "db", "sync")...)
			blocker := blockLease(t, tdb.DB)
			err := cmd.Wait()
			blocker.Rollback()
			want := "ratchet: stopping before version 3: the migration lock's lease was lost: it could not be renewed within its 1s"
			// The release waits for the blocker too, and warns that the lease will expire.
			if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(stderr.String(), want) {
				t.Fatalf("ended with %v; want exit 1 and %q\nstdout:\n%s\nstderr:\n%s", err, want, stdout, stderr)
			}
			if !strings.Contains(stdout.String(), "1 -> 2") {
				t.Errorf("version 2 was not reported applied before the stop:\n%s", stdout)
			}
			var v int
			if err := tdb.DB.QueryRow("SELECT version FROM migrate_version").Scan(&v); err != nil || v != 2 {
				t.Errorf("version after the stop: %d (%v), want 2", v, err)
			}
			// Nothing of version 3 is recorded: not even as running.
			var journal int
			if err := tdb.DB.QueryRow("SELECT count(*) FROM ratchet_journal").Scan(&journal); err == nil && journal != 0 {
				t.Errorf("ratchet_journal has %d rows after a run that stopped between versions", journal)
			}
			if out := runRatchet(t, append(args, "db", "sync")...).mustSucceed(t); !strings.Contains(out, "2 -> 3") {
				t.Errorf("the next run:\n%s", out)
			}
		})
	}
}

// blockLease waits for a lease row in ratchet_lock and locks it in a transaction of its own,
// which the caller rolls back: until then nobody can renew the lease.
func blockLease(t *testing.T, db *sql.DB) *sql.Tx {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM ratchet_lock").Scan(&n); err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no lease was taken")
		}
		time.Sleep(5 * time.Millisecond)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("SELECT * FROM ratchet_lock FOR UPDATE"); err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	return tx
}

// TestPgBouncerAdvisoryLockRefused: behind PgBouncer in transaction mode, whose server
// connections a client's statements move between, the advisory lock keeps nobody out; a run
// that finds its statements in another server session than the lock's stops before writing
// anything and says to use the lease, which then works.
func TestPgBouncerAdvisoryLockRefused(t *testing.T) {
	tdb := testdb.New(t, "postgresql")
	pb := testdb.StartPgBouncer(t, tdb.URL)
	pb.Warm(t, tdb.Name)
	repo := counterRepo(t, 3)
	args := []string{"--repository", repo, "--database", pb.URL(tdb.Name)}
	r := runRatchet(t, append(args, "db", "sync")...)
	if r.code != 1 || !strings.Contains(r.stderr, "a connection pooler in transaction mode is in front of the server") || !strings.Contains(r.stderr, "--lock lease") {
		t.Fatalf("db sync with the advisory lock through PgBouncer: want exit 1 naming the pooler and --lock lease\n%s", r)
	}
	if tables := tdb.Tables(t); len(tables) != 0 {
		t.Errorf("tables after the refused run: %v", tables)
	}
	runRatchet(t, append(args, "--lock", "lease", "db", "sync")...).mustSucceed(t)
	checkExactlyOnce(t, tdb.DB, 3)
}

// TestLockMethodFromConfig: `[ratchet] lock` and `lease_duration` in a config file choose
// the lease on a single server too; the flags override them.
func TestLockMethodFromConfig(t *testing.T) {
	tdb := testdb.New(t, "mysql")
	repo := counterRepo(t, 2)
	conf := filepath.Join(t.TempDir(), "glance.conf")
	if err := os.WriteFile(conf, []byte("[database]\nconnection = "+tdb.URL+"\n[ratchet]\nlock = lease\nlease_duration = 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--repository", repo, "--config-file", conf}
	if out := runRatchet(t, append(args, "db", "status")...).mustSucceed(t); !strings.Contains(out, "migration lock: a lease in ratchet_lock") {
		t.Errorf("db status with lock = lease in the config file:\n%s", out)
	}
	if out := runRatchet(t, append(args, "--lock", "advisory", "db", "status")...).mustSucceed(t); strings.Contains(out, "lease") {
		t.Errorf("db status with --lock advisory over the config file:\n%s", out)
	}
	runRatchet(t, append(args, "db", "sync")...).mustSucceed(t)
	if tables := tdb.Tables(t); !slices.Contains(tables, "ratchet_lock") {
		t.Errorf("tables after db sync with the lease: %v, want ratchet_lock among them", tables)
	}
}

// TestPgBouncerPreparedStatementsHint: through PgBouncer in transaction mode, pgx's default
// prepared and cached statements land on server connections that do not have them; the
// error says what to add to the URL.
func TestPgBouncerPreparedStatementsHint(t *testing.T) {
	tdb := testdb.New(t, "postgresql")
	pb := testdb.StartPgBouncer(t, tdb.URL)
	pb.Warm(t, tdb.Name)
	url := strings.Replace(pb.URL(tdb.Name), "default_query_exec_mode=simple_protocol", "default_query_exec_mode=cache_statement", 1)
	r := runRatchet(t, "--repository", counterRepo(t, 2), "--database", url, "--lock", "lease", "db", "sync")
	if r.code != 1 || !strings.Contains(r.stderr, "add default_query_exec_mode=simple_protocol to the URL") {
		t.Errorf("db sync with pgx's statement cache through PgBouncer: want exit 1 and the hint\n%s", r)
	}
}
