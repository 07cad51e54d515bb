package imagesvc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/testdb"
	"github.com/ratchetdb/ratchet/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// TestImageStateRolling upgrades each database from version 7 to 8 (images.status renamed
// images.state) with the library's expand, migrate and contract, writing rows as the
// previous release does (status only) and as the new one does (state only) between the
// phases: the triggers must keep both columns equal, the backfill must fill every row in
// batches, and contract must leave state NOT NULL and no status column or trigger behind.
func TestImageStateRolling(t *testing.T) {
	atVersion7(t, func(t *testing.T, m *ratchet.Migrator, w stateWriter) {
		ctx := context.Background()
		w.insert("before-1", "status", "active")
		w.insert("before-2", "status", "queued")
		for i := range 1200 { // more than two batches of the backfill
			w.insert(fmt.Sprintf("bulk-%04d", i), "status", "active")
		}

		if _, err := m.Expand(ctx, ratchet.Latest); err != nil {
			t.Fatal(err)
		}
		w.insert("old-1", "status", "queued")    // N-1
		w.insert("new-1", "state", "saving")     // N
		w.update("before-2", "status", "saving") // N-1 on a row not yet backfilled
		w.update("old-1", "status", "active")
		w.update("new-1", "state", "active")
		w.update("old-1", "state", "killed") // N on a row N-1 wrote
		w.update("new-1", "status", "deleted")
		w.want(map[string]string{"before-1": "active/NULL", "before-2": "saving/saving",
			"old-1": "killed/killed", "new-1": "deleted/deleted"})

		// One batch of the script's 500 rows, then the rest.
		res, err := m.Migrate(ctx, ratchet.MaxRows(1))
		if !errors.Is(err, ratchet.ErrDataPending) || len(res.Applied) != 1 || res.Applied[0].Rows != 500 {
			t.Fatalf("migrate with a limit: %+v, %v; want one batch of 500 rows and work left", res, err)
		}
		if res, err = m.Migrate(ctx); err != nil || len(res.Applied) != 1 || res.Applied[0].Rows != 1201-500 {
			t.Fatalf("migrate: %+v, %v; want the other %d rows", res, err, 1201-500)
		}
		var unequal int
		if err := w.db.QueryRow("SELECT count(*) FROM images WHERE state IS NULL OR state <> status").Scan(&unequal); err != nil {
			t.Fatal(err)
		}
		if unequal != 0 {
			t.Errorf("%d rows with state unlike status after the backfill", unequal)
		}

		if _, err := m.Contract(ctx); err != nil {
			t.Fatal(err)
		}
		if st, err := m.State(ctx); err != nil || st.Version != 8 || st.Window {
			t.Errorf("after contract: %+v, %v; want version 8 and no window", st, err)
		}
		w.insert("after-1", "state", "active")
		w.contracted()
		var before string
		if err := w.db.QueryRow("SELECT state FROM images WHERE id = 'before-1'").Scan(&before); err != nil || before != "active" {
			t.Errorf("before-1 state = %q, %v; want active", before, err)
		}
	})
}

// TestImageStateOffline applies version 8 offline, as `db sync` does with the service
// stopped: its phases run one after the other, without the triggers, and leave state filled
// from status, NOT NULL, and no status column or trigger.
func TestImageStateOffline(t *testing.T) {
	atVersion7(t, func(t *testing.T, m *ratchet.Migrator, w stateWriter) {
		ctx := context.Background()
		for i := range 700 {
			w.insert(fmt.Sprintf("i%03d", i), "status", []string{"active", "queued", "killed"}[i%3])
		}
		if res, err := m.Upgrade(ctx, ratchet.Latest); err != nil || res.End != 8 {
			t.Fatalf("upgrade: %+v, %v; want version 8", res, err)
		}
		var n int
		if err := w.db.QueryRow("SELECT count(*) FROM images WHERE state = 'queued'").Scan(&n); err != nil || n != 233 {
			t.Errorf("%d images queued, %v; want 233 of 700", n, err)
		}
		w.contracted()
	})
}

// atVersion7 runs test on a fresh database of each dialect, in parallel, brought to version
// 7 by a Migrator of the service's repository.
func atVersion7(t *testing.T, test func(t *testing.T, m *ratchet.Migrator, w stateWriter)) {
	repo, err := Repository()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tdb := testdb.New(t, name)
			m, err := ratchet.New(tdb.DB, tdb.Dialect, repo, ratchet.WithDriver(tdb.Driver))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Upgrade(context.Background(), 7); err != nil {
				t.Fatal(err)
			}
			test(t, m, stateWriter{t: t, tdb: tdb, db: tdb.DB, d: tdb.Dialect})
		})
	}
}

// stateWriter writes images the way each release does.
type stateWriter struct {
	t   *testing.T
	tdb *testdb.DB
	db  *sql.DB
	d   dialect.Dialect
}

// insert adds an image with only column set, as one release would.
func (w stateWriter) insert(id, column, value string) {
	w.t.Helper()
	q := fmt.Sprintf("INSERT INTO images (id, name, %s, is_public, created_at, deleted) VALUES (%s, %s, %s, %s, %s, %s)",
		column, w.d.Param(1), w.d.Param(2), w.d.Param(3), w.d.Param(4), w.d.Param(5), w.d.Param(6))
	if _, err := w.db.Exec(q, id, "image "+id, value, false, time.Now().UTC(), false); err != nil {
		w.t.Fatalf("inserting %s with %s: %v", id, column, err)
	}
}

// update sets one column of an image, as one release would.
func (w stateWriter) update(id, column, value string) {
	w.t.Helper()
	q := fmt.Sprintf("UPDATE images SET %s = %s WHERE id = %s", column, w.d.Param(1), w.d.Param(2))
	if _, err := w.db.Exec(q, value, id); err != nil {
		w.t.Fatalf("updating %s of %s: %v", column, id, err)
	}
}

// want checks "status/state" of the given images.
func (w stateWriter) want(rows map[string]string) {
	w.t.Helper()
	for id, want := range rows {
		var status, state sql.NullString
		if err := w.db.QueryRow("SELECT status, state FROM images WHERE id = "+w.d.Param(1), id).Scan(&status, &state); err != nil {
			w.t.Fatal(err)
		}
		got := orNULL(status) + "/" + orNULL(state)
		if got != want {
			w.t.Errorf("image %s: status/state = %s, want %s", id, got, want)
		}
	}
}

func orNULL(s sql.NullString) string {
	if !s.Valid {
		return "NULL"
	}
	return s.String
}

// contracted checks what version 8 leaves: state NOT NULL, no status column, no trigger.
func (w stateWriter) contracted() {
	w.t.Helper()
	if _, err := w.db.Exec("INSERT INTO images (id, is_public, created_at, deleted) VALUES ('none', "+
		w.d.Param(1)+", CURRENT_TIMESTAMP, "+w.d.Param(2)+")", false, false); err == nil {
		w.t.Error("an image without state was inserted; state must be NOT NULL")
	}
	if _, err := w.db.Exec("SELECT status FROM images"); err == nil {
		w.t.Error("images.status is still there")
	}
	if n := leftoverTriggers(w.t, w.tdb); n != 0 {
		w.t.Errorf("%d ratchet_v008 triggers or functions are left", n)
	}
}

// leftoverTriggers counts version 8's triggers and functions in the database.
func leftoverTriggers(t *testing.T, tdb *testdb.DB) int {
	t.Helper()
	var q string
	switch tdb.Dialect {
	case dialect.Postgres:
		q = `SELECT (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ratchet\_v008%') +
			(SELECT count(*) FROM pg_proc WHERE proname LIKE 'ratchet\_v008%')`
	case dialect.MySQL:
		q = `SELECT count(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE() AND trigger_name LIKE 'ratchet\_v008%'`
	default:
		q = `SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'ratchet\_v008%' ESCAPE '\'`
	}
	var n int
	if err := tdb.DB.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
