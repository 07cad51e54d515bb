package main

import (
	"strings"
	"sync"
	"testing"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// TestConcurrentExpandSaysWhatItDid starts two `db expand` at once while another holder's
// lease keeps both waiting, so that both read the state before either expands: the one that
// expands says so, the other, which found the expansion done once it held the lock, says
// that it is up to date, not that it expanded.
func TestConcurrentExpandSaysWhatItDid(t *testing.T) {
	repo := rollingRepo(t)
	for _, name := range []string{"postgresql", "mysql"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tdb := testdb.New(t, name)
			args := []string{"--repository", repo, "--database", tdb.URL, "--lock", "lease", "--lease-duration", "1s", "--lock-timeout", "30s"}
			runRatchet(t, append(args, "db", "sync", "1")...).mustSucceed(t)
			expires := "UTC_TIMESTAMP(6) + INTERVAL 1500000 MICROSECOND"
			if name == "postgresql" {
				expires = "clock_timestamp() + interval '1500 milliseconds'"
			}
			if _, err := tdb.DB.Exec("INSERT INTO ratchet_lock (repository_id, holder, host, pid, acquired, expires) SELECT repository_id, 'elsewhere', 'elsewhere', 1, " + expires + ", " + expires + " FROM migrate_version"); err != nil {
				t.Fatal(err)
			}
			var res [2]cmdResult
			var wg sync.WaitGroup
			for i := range res {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res[i] = runRatchet(t, append(args, "db", "expand")...)
				}()
			}
			wg.Wait()
			var expanded, upToDate int
			for _, r := range res {
				if r.code != 0 {
					t.Fatalf("%s\nwant exit 0", r)
				}
				if strings.Contains(r.stdout, "Expanded database to 3") {
					expanded++
				}
				if strings.Contains(r.stdout, "Database expansion is up to date") {
					upToDate++
				}
			}
			if expanded != 1 || upToDate != 1 {
				t.Errorf("of two concurrent db expand, %d say they expanded and %d that expansion is up to date; want one each:\n%s\n%s", expanded, upToDate, res[0], res[1])
			}
		})
	}
}
