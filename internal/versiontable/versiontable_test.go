package versiontable_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/internal/testdb"
	"github.com/ratchetdb/ratchet/internal/versiontable"
)

// TestAdvanceTouchesExactlyOneRow: the version update is conditional on the old version, so
// a writer that lost a race changes nothing and learns it.
func TestAdvanceTouchesExactlyOneRow(t *testing.T) {
	ctx := context.Background()
	tdb := testdb.New(t, "sqlite")
	vt := versiontable.New(tdb.Dialect, tdb.Schema(), "migrate_version", "repo")
	if err := vt.Create(ctx, tdb.DB); err != nil {
		t.Fatal(err)
	}
	if err := vt.Stamp(ctx, tdb.DB, "path", 3); err != nil {
		t.Fatal(err)
	}
	other := versiontable.New(tdb.Dialect, tdb.Schema(), "migrate_version", "other")
	if err := other.Stamp(ctx, tdb.DB, "elsewhere", 3); err != nil {
		t.Fatal(err)
	}
	if err := vt.Advance(ctx, tdb.DB, versiontable.VersionMove(2, 3)); !errors.Is(err, versiontable.ErrConcurrentUpdate) {
		t.Fatalf("Advance from a stale version = %v, want ErrConcurrentUpdate", err)
	}
	if err := vt.Advance(ctx, tdb.DB, versiontable.VersionMove(3, 4)); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := vt.Version(ctx, tdb.DB); err != nil || !ok || v != 4 {
		t.Fatalf("Version = %d, %v, %v; want 4", v, ok, err)
	}
	if v, _, _ := other.Version(ctx, tdb.DB); v != 3 {
		t.Fatalf("the other repository's row moved to %d", v)
	}
}

func TestHistoryRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			tdb := testdb.New(t, name)
			vt := versiontable.New(tdb.Dialect, tdb.Schema(), "migrate_version", "repo")
			if err := vt.CreateHistory(ctx, tdb.DB); err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 11, 25, 10, 11, 12, 0, time.UTC)
			want := versiontable.Entry{Version: 7, Phase: "upgrade", Script: "versions/007_x_default_upgrade.sql",
				Checksum: "sha256:abc", AppliedAt: at, Duration: 1500 * time.Millisecond, Statements: 3, AppliedBy: "me@host"}
			if err := vt.Record(ctx, tdb.DB, want); err != nil {
				t.Fatal(err)
			}
			got, err := vt.History(ctx, tdb.DB)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != want {
				t.Fatalf("History = %+v, want [%+v]", got, want)
			}
		})
	}
}

// TestRecordAllChunks writes more rows than one INSERT takes.
func TestRecordAllChunks(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"sqlite", "postgresql"} {
		t.Run(name, func(t *testing.T) {
			tdb := testdb.New(t, name)
			vt := versiontable.New(tdb.Dialect, tdb.Schema(), "migrate_version", "repo")
			if err := vt.CreateHistory(ctx, tdb.DB); err != nil {
				t.Fatal(err)
			}
			entries := make([]versiontable.Entry, 2500)
			for i := range entries {
				entries[i] = versiontable.Entry{Version: i + 1, Phase: "upgrade", Script: "s", Checksum: "c", AppliedAt: time.Unix(0, 0)}
			}
			if err := vt.RecordAll(ctx, tdb.DB, entries); err != nil {
				t.Fatal(err)
			}
			got, err := vt.History(ctx, tdb.DB)
			if err != nil || len(got) != 2500 || got[2499].Version != 2500 {
				t.Fatalf("History: %d rows, %v", len(got), err)
			}
		})
	}
}

// TestClaimJournalStatement: the journal row is inserted only while the version table says
// the version the step starts from.
func TestClaimJournalStatement(t *testing.T) {
	ctx := context.Background()
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			tdb := testdb.New(t, name)
			vt := versiontable.New(tdb.Dialect, tdb.Schema(), "migrate_version", "repo")
			if err := vt.Create(ctx, tdb.DB); err != nil {
				t.Fatal(err)
			}
			if err := vt.Stamp(ctx, tdb.DB, "path", 3); err != nil {
				t.Fatal(err)
			}
			if err := vt.CreateJournal(ctx, tdb.DB); err != nil {
				t.Fatal(err)
			}
			j := &versiontable.Journal{Version: 4, Script: "versions/004_x_mysql_upgrade.sql", Total: 2}
			claim := func(from int) (bool, error) {
				st := vt.ClaimJournal(j, versiontable.VersionMove(from, j.Version))
				res, err := tdb.DB.ExecContext(ctx, st.Query, st.Args...)
				if err != nil {
					return false, err
				}
				return vt.Claimed(res, j)
			}
			if ok, err := claim(2); ok || err != nil {
				t.Fatalf("ClaimJournal from a stale version = %v, %v; want false, nil", ok, err)
			}
			if got, err := vt.ReadJournal(ctx, tdb.DB); got != nil || err != nil {
				t.Fatalf("journal after a refused claim = %+v, %v; want none", got, err)
			}
			if ok, err := claim(3); !ok || err != nil {
				t.Fatalf("ClaimJournal = %v, %v; want true, nil", ok, err)
			}
			got, err := vt.ReadJournal(ctx, tdb.DB)
			if err != nil || got == nil || got.Version != 4 || got.Script != j.Script || got.Total != 2 || got.Done() != 0 {
				t.Fatalf("journal = %+v, %v; want version 4 started", got, err)
			}
		})
	}
}
