package main

import (
	"strings"
	"testing"

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
		"002_alter_mysql_upgrade.sql": "ALTER TABLE big ADD COLUMN w INTEGER, ALGORITHM=COPY;",
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
