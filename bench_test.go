package ratchet_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/drivers/sqlitedriver"
	"github.com/ratchetdb/ratchet/repository"
)

// benchRepo builds a repository of n versions shaped like the bench/ workload: each creates a
// table with a few columns and an index; every tenth also inserts 100 rows.
func benchRepo(b *testing.B, n int) *repository.Repository {
	b.Helper()
	fsys := fstest.MapFS{"migrate.cfg": {Data: []byte(migrateCfg)}}
	for v := 1; v <= n; v++ {
		sql := fmt.Sprintf("CREATE TABLE t%d (id INTEGER PRIMARY KEY, name VARCHAR(100), created_at TIMESTAMP, size BIGINT);\nCREATE INDEX ix_t%d_name ON t%d (name);\n", v, v, v)
		if v%10 == 0 {
			for r := 1; r <= 100; r++ {
				sql += fmt.Sprintf("INSERT INTO t%d (id, name, size) VALUES (%d, 'row %d', %d);\n", v, r, r, r*1000)
			}
		}
		fsys[fmt.Sprintf("versions/%04d_step_default_upgrade.sql", v)] = &fstest.MapFile{Data: []byte(sql)}
	}
	repo, err := repository.Load(fsys)
	if err != nil {
		b.Fatal(err)
	}
	return repo
}

func memoryDB(b *testing.B) *sql.DB {
	b.Helper()
	db, err := sql.Open("sqlite", "file::memory:")
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkPlan1000 plans 1,000 versions (script selection and splitting) on an empty database.
func BenchmarkPlan1000(b *testing.B) {
	repo := benchRepo(b, 1000)
	m, err := ratchet.New(memoryDB(b), dialect.SQLite, repo, ratchet.WithDriver(sqlitedriver.New()))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Plan(context.Background(), ratchet.Latest); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpgrade1000 applies 1,000 versions to an in-memory SQLite database.
func BenchmarkUpgrade1000(b *testing.B) {
	for _, atomic := range []bool{false, true} {
		b.Run(fmt.Sprintf("atomic=%v", atomic), func(b *testing.B) {
			repo := benchRepo(b, 1000)
			var opts []ratchet.UpgradeOption
			if atomic {
				opts = append(opts, ratchet.Atomic())
			}
			for b.Loop() {
				b.StopTimer()
				m, err := ratchet.New(memoryDB(b), dialect.SQLite, repo, ratchet.WithDriver(sqlitedriver.New()))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				res, err := m.Upgrade(context.Background(), ratchet.Latest, opts...)
				if err != nil || res.End != 1000 {
					b.Fatal(res, err)
				}
			}
		})
	}
}

// BenchmarkVersion reads the version of an up-to-date database of 1,000 versions.
func BenchmarkVersion(b *testing.B) {
	repo := benchRepo(b, 1000)
	m, err := ratchet.New(memoryDB(b), dialect.SQLite, repo, ratchet.WithDriver(sqlitedriver.New()))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Upgrade(context.Background(), ratchet.Latest); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if v, err := m.Version(context.Background()); err != nil || v != 1000 {
			b.Fatal(v, err)
		}
	}
}
