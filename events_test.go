package ratchet_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/internal/testdb"
)

// TestStatementStartedEvents checks that statements run one by one are reported with their
// line, in order, between their version's start and end, on every dialect.
func TestStatementStartedEvents(t *testing.T) {
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		files := map[string]string{
			"001_a_default_upgrade.sql": "-- ratchet:no-transaction\nCREATE TABLE t1 (id INTEGER);\n\nCREATE TABLE t2 (id INTEGER);\n",
		}
		var got []string
		m, err := ratchet.New(tdb.DB, tdb.Dialect, newRepo(t, files), ratchet.WithEvents(func(e ratchet.Event) {
			switch e.Kind {
			case ratchet.VersionStarted:
				got = append(got, "start")
			case ratchet.StatementStarted:
				if e.Version != 1 || e.Script != "versions/001_a_default_upgrade.sql" {
					t.Errorf("StatementStarted event %+v: wrong version or script", e)
				}
				got = append(got, fmt.Sprintf("line %d", e.Line))
			case ratchet.VersionApplied:
				got = append(got, "applied")
			}
		}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Upgrade(context.Background(), ratchet.Latest); err != nil {
			t.Fatal(err)
		}
		if want := []string{"start", "line 2", "line 4", "applied"}; !slices.Equal(got, want) {
			t.Errorf("events %q, want %q", got, want)
		}
	})
}
