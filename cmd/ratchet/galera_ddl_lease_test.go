package main

import (
	"strings"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// TestGaleraLongDDLKeepsTheLease applies, on the Galera cluster with a 1s lease, a version
// whose ALTER TABLE copies a table for several lease lengths. The DDL runs in total order
// isolation, but the run's lease must outlive it: the run goes on to the next version.
func TestGaleraLongDDLKeepsTheLease(t *testing.T) {
	c := testdb.SharedCluster(t)
	name, err := c.CreateDB()
	if err != nil {
		t.Fatal(err)
	}
	repo := writeRepo(t, map[string]string{
		"001_big_mysql_upgrade.sql": "CREATE TABLE big (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(100));\n" +
			"INSERT INTO big WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000)\n" +
			"SELECT (a.x - 1) * 1000 + b.x, repeat('x', 100) FROM c a, c b WHERE a.x <= 300;",
		"002_alter_mysql_upgrade.sql":  "ALTER TABLE big ADD COLUMN w INTEGER, ALGORITHM=COPY;",
		"003_last_default_upgrade.sql": "CREATE TABLE last (id INTEGER NOT NULL PRIMARY KEY);",
	})
	args := []string{"--repository", repo, "--database", c.NodeURL(0, name), "--lease-duration", "1s"}
	runRatchet(t, append(args, "db", "sync", "1")...).mustSucceed(t)
	r := runRatchet(t, append(args, "db", "sync")...)
	t.Logf("%s", r)
	if r.code != 0 || !strings.Contains(r.stdout, "2 -> 3") {
		t.Fatalf("%s\nwant versions 2 and 3 applied", r)
	}
}

// TestGaleraNoTakeoverDuringLongDDL starts a second `db sync` through node 1 while the
// first, through node 0, runs an ALTER TABLE for longer than its 1s lease: the second must
// not apply the version the first is applying. Each version is recorded once, and the ALTER
// runs once (a second one would fail on the column it adds).
func TestGaleraNoTakeoverDuringLongDDL(t *testing.T) {
	c := testdb.SharedCluster(t)
	name, err := c.CreateDB()
	if err != nil {
		t.Fatal(err)
	}
	repo := writeRepo(t, map[string]string{
		"001_big_mysql_upgrade.sql": "CREATE TABLE big (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(100));\n" +
			"INSERT INTO big WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000)\n" +
			"SELECT (a.x - 1) * 1000 + b.x, repeat('x', 100) FROM c a, c b WHERE a.x <= 500;",
		"002_alter_mysql_upgrade.sql":  "ALTER TABLE big ADD COLUMN w INTEGER, ALGORITHM=COPY;",
		"003_last_default_upgrade.sql": "CREATE TABLE last (id INTEGER NOT NULL PRIMARY KEY);",
	})
	args := func(i int) []string {
		return []string{"--repository", repo, "--database", c.NodeURL(i, name), "--lease-duration", "1s", "--lock-timeout", "60s"}
	}
	runRatchet(t, append(args(0), "db", "sync", "1")...).mustSucceed(t)
	first, firstOut, firstErr := startRatchet(t, append(args(0), "db", "sync")...)
	time.Sleep(1300 * time.Millisecond)
	second := runRatchet(t, append(args(1), "db", "sync")...)
	first.Wait()
	t.Logf("first exited %d\n%s%s\nsecond: %s", first.ProcessState.ExitCode(), firstOut, firstErr, second)
	for _, out := range []string{firstErr.String(), second.stderr} {
		if strings.Contains(out, "Duplicate column") || strings.Contains(out, "duplicate column") {
			t.Errorf("version 2 ran twice:\n%s", out)
		}
	}
	final := runRatchet(t, append(args(2), "db", "sync")...)
	if final.code != 0 {
		t.Fatalf("a run after both: %s", final)
	}
	db := testdb.Open(t, c.NodeURL(2, name))
	var versions, distinct int
	if err := db.QueryRow("SELECT count(*), count(DISTINCT version) FROM ratchet_history").Scan(&versions, &distinct); err != nil {
		t.Fatal(err)
	}
	if versions != 3 || distinct != 3 {
		t.Errorf("ratchet_history has %d rows for %d versions; want 3 and 3", versions, distinct)
	}
}
