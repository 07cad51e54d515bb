package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// TestConcurrentFirstSync starts several first-time `db sync` runs at once against a server
// database that does not exist yet, as init containers starting together do: one creates
// it, the others find it created meanwhile, wait for the migration lock and see the new
// version. All exit 0 and every version runs exactly once. Each round uses a new database
// so that the creations race again.
func TestConcurrentFirstSync(t *testing.T) {
	t.Parallel()
	const versions, processes, rounds = 3, 6, 3
	scripts := map[string]string{"001_counter_default_upgrade.sql": "CREATE TABLE counter (version INTEGER NOT NULL);\nINSERT INTO counter VALUES (1);"}
	for v := 2; v <= versions; v++ {
		scripts[fmt.Sprintf("%03d_step_default_upgrade.sql", v)] = fmt.Sprintf("INSERT INTO counter VALUES (%d);", v)
	}
	repo, id := faultRepo(t, scripts)
	for _, name := range serverDialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testdb.Admin(t, name) // skips or fails when the server is unreachable
			for round := range rounds {
				missing := "ratchet_t_" + randomHex()
				t.Cleanup(func() {
					if err := testdb.Drop(name, missing); err != nil {
						t.Error(err)
					}
				})
				dbURL := withDatabase(t, testdb.ServerURL(name), missing)
				results := make([]cmdResult, processes)
				var wg sync.WaitGroup
				for i := range results {
					wg.Go(func() {
						results[i] = runRatchet(t, "--repository", repo, "--database", dbURL, "db", "sync")
					})
				}
				wg.Wait()
				created, applied := 0, 0
				for i, r := range results {
					if r.code != 0 {
						t.Errorf("round %d, process %d: %s", round, i, r)
					}
					created += strings.Count(r.stdout, "created database")
					applied += strings.Count(r.stdout, " -> ")
				}
				if created < 1 || applied != versions {
					t.Errorf("round %d: %d runs said they created the database and %d versions were reported applied; want at least 1 and %d", round, created, applied, versions)
				}
				db := testdb.Open(t, dbURL)
				var n, distinct, v int
				if err := db.QueryRow("SELECT count(*), count(DISTINCT version) FROM counter").Scan(&n, &distinct); err != nil {
					t.Fatal(err)
				}
				if n != versions || distinct != versions {
					t.Errorf("round %d: counter has %d rows, %d distinct; want each of the %d versions once", round, n, distinct, versions)
				}
				if err := db.QueryRow("SELECT version FROM migrate_version WHERE repository_id = '" + id + "'").Scan(&v); err != nil || v != versions {
					t.Errorf("round %d: recorded version %d (%v), want %d", round, v, err, versions)
				}
				db.Close()
			}
		})
	}
}
