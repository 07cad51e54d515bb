package ratchet_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/drivers/sqlitedriver"
	"github.com/ratchetdb/ratchet/internal/testdb"
	"github.com/ratchetdb/ratchet/repository"
)

// goRollingRepo is a repository whose version 2 is rolling and written in Go: an expand that
// adds a column, a data migration that fills it in keyset batches (counting, per row, how
// often it ran), and a contract. failAfter makes the n-th call of Batch fail (0: never).
func goRollingRepo(t *testing.T, failAfter *int) *repository.Repository {
	t.Helper()
	repo := newRepo(t, map[string]string{
		"001_items_default_upgrade.sql": "CREATE TABLE items (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b INTEGER, runs INTEGER NOT NULL DEFAULT 0);",
	})
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(repo.Register(repository.GoMigration{Version: 2, Phase: repository.OpExpand, Name: "add_b_index", Up: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "CREATE INDEX ix_items_b ON items (b)")
		return err
	}}))
	calls := 0
	must(repo.RegisterData(repository.DataMigration{
		Version: 2,
		Name:    "fill_b",
		Pending: func(ctx context.Context, q repository.Querier) (bool, error) {
			var n int
			err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM items WHERE b IS NULL").Scan(&n)
			return n > 0, err
		},
		Batch: func(ctx context.Context, tx *sql.Tx, b repository.Batch) (repository.Progress, error) {
			calls++
			if *failAfter > 0 && calls == *failAfter {
				return repository.Progress{}, errors.New("batch failed on purpose")
			}
			d, _ := dialect.FromContext(ctx)
			after := 0
			if b.Cursor != "" {
				after, _ = strconv.Atoi(b.Cursor)
			}
			var ids []int
			rows, err := tx.QueryContext(ctx, d.Rebind("SELECT id FROM items WHERE id > ? AND b IS NULL ORDER BY id LIMIT ?"), after, b.Limit)
			if err != nil {
				return repository.Progress{}, err
			}
			for rows.Next() {
				var id int
				if err := rows.Scan(&id); err != nil {
					return repository.Progress{}, err
				}
				ids = append(ids, id)
			}
			rows.Close()
			for _, id := range ids {
				if _, err := tx.ExecContext(ctx, d.Rebind("UPDATE items SET b = a, runs = runs + 1 WHERE id = ?"), id); err != nil {
					return repository.Progress{}, err
				}
			}
			p := repository.Progress{Rows: int64(len(ids)), Done: len(ids) < b.Limit}
			if len(ids) > 0 {
				p.Cursor = strconv.Itoa(ids[len(ids)-1])
			}
			return p, nil
		},
	}))
	must(repo.Register(repository.GoMigration{Version: 2, Phase: repository.OpContract, Name: "require_b", Up: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "CREATE TABLE contracted (id INTEGER)")
		return err
	}}))
	return repo
}

// TestGoRollingVersion: Go expand, data migration and contract on every dialect. A batch that
// fails rolls back alone; the next run resumes after the last committed batch, every row is
// migrated exactly once, and the state says where the window stands at each step.
func TestGoRollingVersion(t *testing.T) {
	ctx := context.Background()
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		never := 0
		repo := goRollingRepo(t, &never)
		m := newMigrator(t, tdb, repo)
		if _, err := m.Upgrade(ctx, 1); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 25; i++ {
			if _, err := tdb.DB.Exec(fmt.Sprintf("INSERT INTO items (id, a) VALUES (%d, %d)", i, i*10)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := m.Migrate(ctx); !errors.Is(err, ratchet.ErrWindow) {
			t.Fatalf("Migrate before Expand = %v; want ErrWindow", err)
		}
		if _, err := m.Expand(ctx, ratchet.Latest); err != nil {
			t.Fatal(err)
		}
		st, err := m.State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st != (ratchet.SchemaState{Controlled: true, Version: 1, Expanded: 2, Migrated: 1, Target: 2, Window: true, Latest: 2}) || st.Phase() != "migrate" {
			t.Fatalf("state after expand = %+v (phase %q)", st, st.Phase())
		}
		if err := ratchet.RequireAtMost(st, 1); err != nil {
			t.Errorf("the old release must keep running after expand: %v", err)
		}
		if err := ratchet.RequireAtLeast(st, 2); err == nil {
			t.Error("the new release must not start before the data migration")
		}

		if _, err := m.Migrate(ctx, ratchet.BatchSize(10)); err != nil {
			t.Fatal(err)
		}
		var once, total int
		if err := tdb.DB.QueryRow("SELECT COUNT(*), COALESCE(SUM(runs), 0) FROM items WHERE b = a").Scan(&once, &total); err != nil {
			t.Fatal(err)
		}
		if once != 25 || total != 25 {
			t.Errorf("%d rows migrated, %d runs in all; want every row migrated exactly once (25, 25)", once, total)
		}
		st, _ = m.State(ctx)
		if err := ratchet.RequireAtLeast(st, 2); err != nil {
			t.Errorf("after the data migration the new release may start: %v", err)
		}
		if _, err := m.Contract(ctx); err != nil {
			t.Fatal(err)
		}
		st, _ = m.State(ctx)
		if st.Version != 2 || st.Window || st.Phase() != "" {
			t.Errorf("state after contract = %+v", st)
		}
		if err := ratchet.RequireAtMost(st, 1); err == nil {
			t.Error("the old release must refuse a contracted schema")
		}
		var phases []string
		rows, err := tdb.DB.Query("SELECT phase, script FROM ratchet_history WHERE version = 2 ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var phase, script string
			if err := rows.Scan(&phase, &script); err != nil {
				t.Fatal(err)
			}
			phases = append(phases, phase+" "+script)
		}
		rows.Close()
		if fmt.Sprint(phases) != "[expand go:add_b_index migrate go:fill_b contract go:require_b]" {
			t.Errorf("history of version 2: %v", phases)
		}
	})
}

// TestDataMigrationResumesAfterFailedBatch: a batch that fails is rolled back with its
// checkpoint; the batches before it stay committed and recorded, and the next run continues
// from the last checkpoint, not from the start.
func TestDataMigrationResumesAfterFailedBatch(t *testing.T) {
	ctx := context.Background()
	tdb := testdb.New(t, "sqlite")
	failAfter := 3
	m := newMigrator(t, tdb, goRollingRepo(t, &failAfter))
	if _, err := m.Upgrade(ctx, 1); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 50; i++ {
		if _, err := tdb.DB.Exec(fmt.Sprintf("INSERT INTO items (id, a) VALUES (%d, %d)", i, i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Expand(ctx, ratchet.Latest); err != nil {
		t.Fatal(err)
	}
	res, err := m.Migrate(ctx, ratchet.BatchSize(10))
	var se *ratchet.ScriptError
	if !errors.As(err, &se) || se.Version != 2 || se.Err.Error() != "batch failed on purpose" {
		t.Fatalf("Migrate = %v; want the third batch's error", err)
	}
	if len(res.Applied) != 1 || res.Applied[0].Rows != 20 || res.Applied[0].Done {
		t.Fatalf("result %+v; want 20 rows in two committed batches, not done", res.Applied)
	}
	var cursor string
	var rows int
	if err := tdb.DB.QueryRow("SELECT cursor_value, rows_migrated FROM ratchet_rolling").Scan(&cursor, &rows); err != nil {
		t.Fatal(err)
	}
	if cursor != "20" || rows != 20 {
		t.Fatalf("checkpoint = cursor %q, %d rows; want 20, 20", cursor, rows)
	}
	failAfter = 0
	res, err = m.Migrate(ctx, ratchet.BatchSize(10))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 1 || res.Applied[0].Rows != 30 || !res.Applied[0].Done {
		t.Fatalf("second run %+v; want the remaining 30 rows", res.Applied)
	}
	var total int
	if err := tdb.DB.QueryRow("SELECT SUM(runs) FROM items").Scan(&total); err != nil {
		t.Fatal(err)
	}
	if total != 50 {
		t.Errorf("%d row migrations for 50 rows: a batch ran twice", total)
	}
}

// TestDataMigrationInterrupted: cancelling a run rolls back the running batch only, says the
// run was interrupted, and the next run finishes with every row migrated once.
func TestDataMigrationInterrupted(t *testing.T) {
	tdb := testdb.New(t, "sqlite")
	never := 0
	m := newMigrator(t, tdb, goRollingRepo(t, &never))
	if _, err := m.Upgrade(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 200; i++ {
		if _, err := tdb.DB.Exec(fmt.Sprintf("INSERT INTO items (id, a) VALUES (%d, %d)", i, i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Expand(context.Background(), ratchet.Latest); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := m.Migrate(ctx, ratchet.BatchSize(1), ratchet.BatchDelay(5*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Migrate cancelled = %v; want the context's error", err)
	}
	if _, err := m.Migrate(context.Background(), ratchet.BatchSize(7)); err != nil {
		t.Fatal(err)
	}
	var n, total int
	if err := tdb.DB.QueryRow("SELECT COUNT(*), SUM(runs) FROM items WHERE b = a").Scan(&n, &total); err != nil {
		t.Fatal(err)
	}
	if n != 200 || total != 200 {
		t.Errorf("%d rows migrated in %d runs; want 200 exactly once", n, total)
	}
}

// TestConcurrentFirstExpand: runs that expand the same fresh database at once open one window
// and run each part once.
func TestConcurrentFirstExpand(t *testing.T) {
	files := map[string]string{}
	for v := 1; v <= 8; v++ {
		files[fmt.Sprintf("%03d_s_default_expand.sql", v)] = fmt.Sprintf("CREATE TABLE IF NOT EXISTS runs (v INTEGER);\nINSERT INTO runs VALUES (%d);", v)
	}
	repo := newRepo(t, files)
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		concurrently(t, tdb, repo, 4, func(m *ratchet.Migrator) error {
			_, err := m.Expand(context.Background(), ratchet.Latest)
			return err
		})
		var n, distinct int
		if err := tdb.DB.QueryRow("SELECT count(*), count(DISTINCT v) FROM runs").Scan(&n, &distinct); err != nil {
			t.Fatal(err)
		}
		if n != 8 || distinct != 8 {
			t.Errorf("runs: %d rows, %d distinct; want every expand part exactly once (8)", n, distinct)
		}
		var windows, expanded int
		if err := tdb.DB.QueryRow("SELECT count(*), max(expanded) FROM ratchet_rolling").Scan(&windows, &expanded); err != nil {
			t.Fatal(err)
		}
		if windows != 1 || expanded != 8 {
			t.Errorf("%d windows expanded to %d; want one, to 8", windows, expanded)
		}
	})
}

// TestDDLLockWaitIsBounded: while the service holds a lock on a table in a long transaction,
// an expand part's ALTER does not queue for it (which would queue every later query on the
// table behind it): it gives up within its bound, the part rolls back or the statement was
// never run, and it is tried again until the transaction ends. A reader that comes meanwhile
// is served before the long transaction ends.
func TestDDLLockWaitIsBounded(t *testing.T) {
	ctx := context.Background()
	repo := newRepo(t, map[string]string{
		"001_items_default_upgrade.sql": "CREATE TABLE items (id INTEGER PRIMARY KEY);\nINSERT INTO items (id) VALUES (1);",
		"002_c_default_expand.sql":      "ALTER TABLE items ADD COLUMN c INTEGER;",
	})
	for _, name := range []string{"postgresql", "mysql"} {
		t.Run(name, func(t *testing.T) {
			tdb := testdb.New(t, name)
			var mu sync.Mutex
			var warnings []string
			m, err := ratchet.New(tdb.DB, tdb.Dialect, repo, ratchet.WithDriver(tdb.Driver), ratchet.WithEvents(func(e ratchet.Event) {
				if e.Kind == ratchet.Warning {
					mu.Lock()
					warnings = append(warnings, e.Message)
					mu.Unlock()
				}
			}))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Upgrade(ctx, 1); err != nil {
				t.Fatal(err)
			}
			service, long := holdItems(t, tdb)
			events := make(chan string, 3)
			go func() {
				time.Sleep(400 * time.Millisecond) // the ALTER waits for the long transaction by now
				var n int
				err := service.QueryRowContext(ctx, "SELECT COUNT(*) FROM items").Scan(&n)
				events <- fmt.Sprintf("reader done (%v)", err)
			}()
			go func() {
				time.Sleep(1500 * time.Millisecond)
				events <- "long transaction ends"
				long.Commit()
			}()
			if _, err := m.Expand(ctx, ratchet.Latest, ratchet.DDLLockTimeout(200*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			if first := <-events; first != "reader done (<nil>)" {
				t.Errorf("first event %q; want the reader served before the long transaction ends", first)
			}
			<-events
			mu.Lock()
			defer mu.Unlock()
			if len(warnings) == 0 || !strings.Contains(warnings[0], "trying again") {
				t.Errorf("warnings %q; want the statement that gave up waiting tried again", warnings)
			}
			var c sql.NullInt64
			if err := tdb.DB.QueryRow("SELECT c FROM items").Scan(&c); err != nil {
				t.Fatalf("the expand part did not run: %v", err)
			}
		})
	}
}

// TestConcurrentMigrate: runs of the migrate phase at once all succeed, and every row is
// migrated exactly once — serialized by the migration lock on the servers, taking turns
// batch by batch on SQLite, where no lock keeps the service's writers out between batches.
func TestConcurrentMigrate(t *testing.T) {
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		ctx := context.Background()
		never := 0
		repo := goRollingRepo(t, &never)
		m := newMigrator(t, tdb, repo)
		if _, err := m.Upgrade(ctx, 1); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 300; i++ {
			if _, err := tdb.DB.Exec(fmt.Sprintf("INSERT INTO items (id, a) VALUES (%d, %d)", i, i)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := m.Expand(ctx, ratchet.Latest); err != nil {
			t.Fatal(err)
		}
		rows := make(chan int64, 3)
		concurrently(t, tdb, repo, 3, func(m *ratchet.Migrator) error {
			res, err := m.Migrate(ctx, ratchet.BatchSize(7))
			for _, a := range res.Applied {
				rows <- a.Rows
			}
			return err
		})
		close(rows)
		var reported int64
		for n := range rows {
			reported += n
		}
		var n, total int
		if err := tdb.DB.QueryRow("SELECT COUNT(*), SUM(runs) FROM items WHERE b = a").Scan(&n, &total); err != nil {
			t.Fatal(err)
		}
		if n != 300 || total != 300 || reported != 300 {
			t.Errorf("%d rows migrated in %d runs, %d reported; want 300 exactly once", n, total, reported)
		}
		st, err := m.State(ctx)
		if err != nil || st.Migrated != 2 {
			t.Errorf("state %+v, %v; want migrated to 2", st, err)
		}
	})
}

// TestSQLiteRebuildKeepsChildRows: a caller's pool with foreign keys on does not turn the
// table rebuild SQLite needs to change a column into a cascade that deletes the child rows.
// The run turns them off on its connection and gives the setting back.
func TestSQLiteRebuildKeepsChildRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fk.sqlite")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	repo := newRepo(t, map[string]string{
		"001_parents_default_upgrade.sql": "CREATE TABLE parents (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n" +
			"CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parents (id) ON DELETE CASCADE);\n" +
			"INSERT INTO parents VALUES (1, 'p');\nINSERT INTO children VALUES (1, 1), (2, 1);",
		"002_relax_sqlite_expand.sql": "CREATE TABLE parents_new (id INTEGER PRIMARY KEY, name TEXT, title TEXT);\n" +
			"INSERT INTO parents_new (id, name) SELECT id, name FROM parents;\nDROP TABLE parents;\nALTER TABLE parents_new RENAME TO parents;",
	})
	m, err := ratchet.New(db, dialect.SQLite, repo, ratchet.WithDriver(sqlitedriver.New()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Upgrade(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Expand(ctx, ratchet.Latest); err != nil {
		t.Fatal(err)
	}
	var children, fk int
	if err := db.QueryRow("SELECT COUNT(*) FROM children").Scan(&children); err != nil {
		t.Fatal(err)
	}
	if children != 2 {
		t.Errorf("%d child rows after the rebuild of their parents' table; want 2", children)
	}
	if err := db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v after the run; want the caller's 1 back", fk, err)
	}
}

// holdItems plays a service with a long transaction that has read the table items, so that
// it holds a lock on it until the caller commits: it returns the service's pool and the
// transaction.
func holdItems(t *testing.T, tdb *testdb.DB) (*sql.DB, *sql.Tx) {
	t.Helper()
	service := testdb.Open(t, tdb.URL)
	long, err := service.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := long.QueryRow("SELECT COUNT(*) FROM items").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return service, long
}
