package ratchet_test

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/testdb"
	"github.com/ratchetdb/ratchet/repository"
)

// keysetData is a Go data migration of version v that fills column b of table from a, in
// keyset batches whose cursor is the last id.
func keysetData(v int, table string) repository.DataMigration {
	return repository.DataMigration{
		Version: v,
		Name:    "fill_" + table,
		Pending: func(ctx context.Context, q repository.Querier) (bool, error) {
			var n int
			err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE b IS NULL").Scan(&n)
			return n > 0, err
		},
		Batch: func(ctx context.Context, tx *sql.Tx, b repository.Batch) (repository.Progress, error) {
			d, _ := dialect.FromContext(ctx)
			after := 0
			if b.Cursor != "" {
				after, _ = strconv.Atoi(b.Cursor)
			}
			var ids []int
			rows, err := tx.QueryContext(ctx, d.Rebind("SELECT id FROM "+table+" WHERE id > ? AND b IS NULL ORDER BY id LIMIT ?"), after, b.Limit)
			if err != nil {
				return repository.Progress{}, err
			}
			for rows.Next() {
				var id int
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return repository.Progress{}, err
				}
				ids = append(ids, id)
			}
			rows.Close()
			for _, id := range ids {
				if _, err := tx.ExecContext(ctx, d.Rebind("UPDATE "+table+" SET b = a WHERE id = ?"), id); err != nil {
					return repository.Progress{}, err
				}
			}
			p := repository.Progress{Rows: int64(len(ids)), Done: len(ids) < b.Limit}
			if len(ids) > 0 {
				p.Cursor = strconv.Itoa(ids[len(ids)-1])
			}
			return p, nil
		},
	}
}

// TestRollingResweepOfTwoGoDataMigrations: once every data migration of a window is recorded
// complete, rows the old release wrote since are swept again by db migrate; with two Go data
// migrations that both find such rows, the run migrates them and ends, on every dialect.
func TestRollingResweepOfTwoGoDataMigrations(t *testing.T) {
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		repo := newRepo(t, map[string]string{
			"001_items_default_upgrade.sql": "CREATE TABLE items (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b INTEGER);\n" +
				"CREATE TABLE others (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b INTEGER);",
		})
		for _, d := range []repository.DataMigration{keysetData(2, "items"), keysetData(3, "others")} {
			if err := repo.RegisterData(d); err != nil {
				t.Fatal(err)
			}
		}
		m := newMigrator(t, tdb, repo)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := m.Upgrade(ctx, 1); err != nil {
			t.Fatal(err)
		}
		insert := func(from, to int) {
			t.Helper()
			for _, table := range []string{"items", "others"} {
				for i := from; i <= to; i++ {
					if _, err := tdb.DB.Exec(fmt.Sprintf("INSERT INTO %s (id, a) VALUES (%d, %d)", table, i, i*10)); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		insert(1, 5)
		if _, err := m.Expand(ctx, ratchet.Latest); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Migrate(ctx, ratchet.BatchSize(2)); err != nil {
			t.Fatal(err)
		}
		// The old release writes rows, without a trigger, once both migrations are complete.
		insert(6, 8)
		if _, err := m.Migrate(ctx, ratchet.BatchSize(2)); err != nil {
			t.Fatalf("sweeping again: %v", err)
		}
		for _, table := range []string{"items", "others"} {
			var left int
			if err := tdb.DB.QueryRow("SELECT COUNT(*) FROM " + table + " WHERE b IS NULL").Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left != 0 {
				t.Errorf("%s: %d rows left unmigrated", table, left)
			}
		}
	})
}

// TestRollingGoExpandUpOnceUnderLockWait: a Go expand part whose statement gives up waiting for
// a table lock the service holds is tried again (--ddl-lock-timeout), but a Go migration's Up
// is called at most once per version.
func TestRollingGoExpandUpOnceUnderLockWait(t *testing.T) {
	ctx := context.Background()
	tdb := testdb.New(t, "postgresql")
	repo := newRepo(t, map[string]string{
		"001_items_default_upgrade.sql": "CREATE TABLE items (id INTEGER PRIMARY KEY);\nINSERT INTO items (id) VALUES (1);",
	})
	calls := 0
	if err := repo.Register(repository.GoMigration{Version: 2, Phase: repository.OpExpand, Name: "add_c", Up: func(ctx context.Context, tx *sql.Tx) error {
		calls++
		_, err := tx.ExecContext(ctx, "ALTER TABLE items ADD COLUMN c INTEGER")
		return err
	}}); err != nil {
		t.Fatal(err)
	}
	m := newMigrator(t, tdb, repo)
	if _, err := m.Upgrade(ctx, 1); err != nil {
		t.Fatal(err)
	}
	_, long := holdItems(t, tdb)
	go func() {
		time.Sleep(1500 * time.Millisecond)
		long.Commit()
	}()
	_, err := m.Expand(ctx, ratchet.Latest, ratchet.DDLLockTimeout(200*time.Millisecond))
	if calls > 1 {
		t.Errorf("Up called %d times (expand: %v); want at most once", calls, err)
	}
}
