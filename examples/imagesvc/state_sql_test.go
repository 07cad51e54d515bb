package imagesvc

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/testdb"
	"github.com/ratchetdb/ratchet/internal/testenv"
	"github.com/ratchetdb/ratchet/sqlsplit"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// TestImageStateScripts runs version 8's scripts (images.status renamed images.state)
// statement by statement on each database, online blocks included, and writes rows as the
// previous release does (status only) and as the new one does (state only) between the
// phases: the triggers must keep both columns equal, the backfill must fill every row and
// end, and contract must leave state NOT NULL and no status column or trigger behind. The
// scripts' SQL is proved here on its own; the commands that run them are proved in
// cmd/ratchet.
func TestImageStateScripts(t *testing.T) {
	repo, err := Repository()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			tdb := testdb.New(t, name)
			m, err := ratchet.New(tdb.DB, tdb.Dialect, repo, ratchet.WithDriver(tdb.Driver))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Upgrade(ctx, 7); err != nil {
				t.Fatal(err)
			}
			w := stateWriter{t: t, db: tdb.DB, d: tdb.Dialect}
			w.insert("before-1", "status", "active")
			w.insert("before-2", "status", "queued")
			for i := range 1200 { // more than two batches of the backfill
				w.insert(fmt.Sprintf("bulk-%04d", i), "status", "active")
			}

			w.script("expand")
			w.insert("old-1", "status", "queued")    // N-1
			w.insert("new-1", "state", "saving")     // N
			w.update("before-2", "status", "saving") // N-1 on a row not yet backfilled
			w.update("old-1", "status", "active")
			w.update("new-1", "state", "active")
			w.update("old-1", "state", "killed") // N on a row N-1 wrote
			w.update("new-1", "status", "deleted")
			w.want(map[string]string{"before-1": "active/NULL", "before-2": "saving/saving",
				"old-1": "killed/killed", "new-1": "deleted/deleted"})

			runs := w.backfill()
			if runs < 3 {
				t.Errorf("the backfill ran %d times, want at least 3 (batches of 500 over 1,200 rows)", runs)
			}
			var unequal int
			if err := tdb.DB.QueryRow("SELECT count(*) FROM images WHERE state IS NULL OR state <> status").Scan(&unequal); err != nil {
				t.Fatal(err)
			}
			if unequal != 0 {
				t.Errorf("%d rows with state unlike status after the backfill", unequal)
			}

			w.script("contract")
			w.insert("after-1", "state", "active")
			d := tdb.Dialect
			if _, err := tdb.DB.Exec("INSERT INTO images (id, is_public, created_at, deleted) VALUES ('none', "+
				d.Param(1)+", CURRENT_TIMESTAMP, "+d.Param(2)+")", false, false); err == nil {
				t.Error("an image without state was inserted after contract; state must be NOT NULL")
			}
			if _, err := tdb.DB.Exec("SELECT status FROM images"); err == nil {
				t.Error("images.status is still there after contract")
			}
			if n := leftoverTriggers(t, tdb); n != 0 {
				t.Errorf("%d ratchet_v008 triggers or functions are left after contract", n)
			}
			var before string
			if err := tdb.DB.QueryRow("SELECT state FROM images WHERE id = 'before-1'").Scan(&before); err != nil || before != "active" {
				t.Errorf("before-1 state = %q, %v; want active", before, err)
			}
		})
	}
}

// stateWriter writes images the way each release does and runs version 8's scripts.
type stateWriter struct {
	t  *testing.T
	db *sql.DB
	d  dialect.Dialect
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

// file returns the text of version 8's script for a phase on this database.
func (w stateWriter) file(phase string) string {
	w.t.Helper()
	for _, dbms := range []string{w.d.Name(), "default"} {
		b, err := os.ReadFile(filepath.Join("migrate_repo", "versions", "008_image_state_"+dbms+"_"+phase+".sql"))
		if err == nil {
			return string(b)
		}
		if !os.IsNotExist(err) {
			w.t.Fatal(err)
		}
	}
	w.t.Fatalf("no %s script for %s", phase, w.d.Name())
	return ""
}

// statements splits a script as ratchet does.
func (w stateWriter) statements(script string) []string {
	w.t.Helper()
	stmts, err := sqlsplit.Split(script, w.d.Split())
	if err != nil {
		w.t.Fatal(err)
	}
	out := make([]string, len(stmts))
	for i, s := range stmts {
		out[i] = s.Text
	}
	return out
}

// script runs a phase's statements in one transaction, as ratchet runs a version on SQLite
// and PostgreSQL (MySQL commits each DDL statement by itself).
func (w stateWriter) script(phase string) {
	w.t.Helper()
	tx, err := w.db.Begin()
	if err != nil {
		w.t.Fatal(err)
	}
	for _, s := range w.statements(w.file(phase)) {
		if _, err := tx.Exec(s); err != nil {
			tx.Rollback()
			w.t.Fatalf("%s: %s: %v", phase, s, err)
		}
	}
	if err := tx.Commit(); err != nil {
		w.t.Fatal(err)
	}
}

// backfill runs the migrate script's statement until it changes no row, then requires its
// pending query to find nothing; it returns the number of runs.
func (w stateWriter) backfill() int {
	w.t.Helper()
	stmts := w.statements(w.file("migrate"))
	if len(stmts) != 1 {
		w.t.Fatalf("the migrate script has %d statements, want 1 (-- ratchet:repeat)", len(stmts))
	}
	runs := 0
	for {
		runs++
		res, err := w.db.Exec(stmts[0])
		if err != nil {
			w.t.Fatal(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			w.t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if runs > 100 {
			w.t.Fatal("the backfill does not end")
		}
	}
	var one int
	err := w.db.QueryRow("SELECT 1 FROM images WHERE state IS NULL AND status IS NOT NULL").Scan(&one)
	if err != sql.ErrNoRows {
		w.t.Errorf("the pending query after the backfill: %v, want no row", err)
	}
	return runs
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
