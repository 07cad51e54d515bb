//go:build rollingproof

package main

import (
	"strings"
	"testing"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// The tests in this file wait for pieces of the engine; until these land they are built only
// with -tags rollingproof.

// TestRollingKillMySQL is TestRollingKill on MySQL/MariaDB, where expand and contract are
// journalled and a kill may leave a phase stopped part way. It waits for the engine: after a
// contract stopped part way, `db contract --resume` runs the window's pending queries again,
// and they fail on the columns the applied contract statements dropped (Error 1054: Unknown
// column 'name'), so the way the message gives never completes.
func TestRollingKillMySQL(t *testing.T) {
	testRollingKill(t, "mysql")
}

// rollingDropOne drops, on each dialect, one of the triggers version 2's expand creates.
var rollingDropOne = map[string]string{
	"sqlite":     "DROP TRIGGER ratchet_v002_accounts_name",
	"postgresql": "DROP TRIGGER ratchet_v002_accounts_sync ON accounts",
	"mysql":      "DROP TRIGGER ratchet_v002_accounts_bu",
}

// TestRollingCheckMissingTrigger drops one of the open window's triggers: the two releases'
// columns would silently drift apart, so `db check` must exit 1 naming it (ROLLING.md §2.4,
// §2.6). It waits for the engine: `db check` does not look for the window's triggers and
// exits 4.
func TestRollingCheckMissingTrigger(t *testing.T) {
	repo := rollingRepo(t)
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := rollingDB{t: t, repo: repo, tdb: testdb.New(t, name)}
			r.want(0, "db", "sync", "1")
			r.want(0, "db", "expand")
			if _, err := r.tdb.DB.Exec(rollingDropOne[name]); err != nil {
				t.Fatal(err)
			}
			res := r.want(1, "db", "check")
			trigger := strings.Fields(rollingDropOne[name])[2]
			if !strings.Contains(res.stdout+res.stderr, trigger) {
				t.Errorf("%s\nwant the missing trigger %s named", res, trigger)
			}
		})
	}
}
