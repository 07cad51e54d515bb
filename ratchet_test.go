package ratchet_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/testdb"
	"github.com/ratchetdb/ratchet/repository"
)

const migrateCfg = "[db_settings]\nrepository_id=test_repo\nversion_table=migrate_version\n"

// newRepo builds a repository from file names under versions/ and their SQL.
func newRepo(t testing.TB, files map[string]string) *repository.Repository {
	t.Helper()
	fsys := fstest.MapFS{"migrate.cfg": {Data: []byte(migrateCfg)}, "versions/__init__.py": {}}
	for name, text := range files {
		fsys["versions/"+name] = &fstest.MapFile{Data: []byte(text)}
	}
	repo, err := repository.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// conformance runs a test on a fresh database of every dialect: the same cases must pass
// on SQLite, PostgreSQL and MariaDB/MySQL.
func conformance(t *testing.T, test func(t *testing.T, tdb *testdb.DB)) {
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			test(t, testdb.New(t, name))
		})
	}
}

func newMigrator(t testing.TB, tdb *testdb.DB, repo *repository.Repository) *ratchet.Migrator {
	t.Helper()
	m, err := ratchet.New(tdb.DB, tdb.Dialect, repo, ratchet.WithDriver(tdb.Driver), ratchet.WithRepositoryPath("repo"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tables lists the database's tables, bookkeeping included.
func tables(t testing.TB, tdb *testdb.DB) string {
	t.Helper()
	return strings.Join(tdb.Tables(t), ",")
}

var threeVersions = map[string]string{
	"001_create_t1_default_upgrade.sql":    "CREATE TABLE t1 (id INTEGER PRIMARY KEY);",
	"002_create_t2_default_upgrade.sql":    "CREATE TABLE t2 (id INTEGER PRIMARY KEY);\nINSERT INTO t1 (id) VALUES (1);",
	"003_create_t3_sqlite_upgrade.sql":     "CREATE TABLE t3 (id INTEGER PRIMARY KEY, dialect VARCHAR(20) DEFAULT 'sqlite');",
	"003_create_t3_postgresql_upgrade.sql": "CREATE TABLE t3 (id INTEGER PRIMARY KEY, dialect VARCHAR(20) DEFAULT 'postgresql');",
	"003_create_t3_mysql_upgrade.sql":      "CREATE TABLE t3 (id INTEGER PRIMARY KEY, dialect VARCHAR(20) DEFAULT 'mysql');",
	"003_create_t3_default_upgrade.sql":    "CREATE TABLE wrong (id INTEGER);",
}

func TestVersionOfEmptyDatabaseWritesNothing(t *testing.T) {
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		m := newMigrator(t, tdb, newRepo(t, threeVersions))
		v, err := m.Version(context.Background())
		if err != nil || v != 0 {
			t.Fatalf("Version = %d, %v; want 0, nil", v, err)
		}
		if got := tables(t, tdb); got != "" {
			t.Errorf("tables after Version: %q, want none", got)
		}
	})
}

func TestUpgradeStampsAndAppliesInOrder(t *testing.T) {
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		ctx := context.Background()
		db := tdb.DB
		m := newMigrator(t, tdb, newRepo(t, threeVersions))
		res, err := m.Upgrade(ctx, ratchet.Latest)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Stamped || res.Start != 0 || res.End != 3 || len(res.Applied) != 3 {
			t.Fatalf("result = %+v", res)
		}
		want := "versions/003_create_t3_" + tdb.Dialect.Name() + "_upgrade.sql"
		if res.Applied[2].Script != want {
			t.Errorf("version 3 ran %s, want %s", res.Applied[2].Script, want)
		}
		want = "migrate_version,ratchet_history,t1,t2,t3"
		if !tdb.Dialect.TransactionalDDL() {
			want = "migrate_version,ratchet_history,ratchet_journal,t1,t2,t3"
		}
		if got := tables(t, tdb); got != want {
			t.Errorf("tables = %s, want %s", got, want)
		}
		var id, path string
		var version int
		if err := db.QueryRow("SELECT repository_id, repository_path, version FROM migrate_version").Scan(&id, &path, &version); err != nil {
			t.Fatal(err)
		}
		if id != "test_repo" || path != "repo" || version != 3 {
			t.Errorf("migrate_version row = %q %q %d", id, path, version)
		}
		var n int
		if err := db.QueryRow("SELECT count(*) FROM ratchet_history WHERE checksum LIKE 'sha256:%' AND statements > 0").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("history rows with checksum = %d, want 3", n)
		}
		st, err := m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Version != 3 || st.Pending() != 0 || len(st.Versions) != 3 || st.Versions[0].AppliedAt.IsZero() {
			t.Errorf("status = %+v", st)
		}
		// Again: nothing to do.
		res, err = m.Upgrade(ctx, ratchet.Latest)
		if err != nil || len(res.Applied) != 0 || res.Stamped || res.End != 3 {
			t.Fatalf("second upgrade = %+v, %v", res, err)
		}
	})
}

// TestVersionTableDDL checks the SQLite version table against the text sqlalchemy-migrate
// itself writes, byte for byte.
func TestVersionTableDDL(t *testing.T) {
	tdb := testdb.New(t, "sqlite")
	if err := newMigrator(t, tdb, newRepo(t, threeVersions)).VersionControl(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	var ddl string
	if err := tdb.DB.QueryRow("SELECT sql FROM sqlite_master WHERE name = 'migrate_version'").Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	const legacy = "CREATE TABLE migrate_version (\n\trepository_id VARCHAR(250) NOT NULL, \n\trepository_path TEXT, \n\tversion INTEGER, \n\tPRIMARY KEY (repository_id)\n)"
	if ddl != legacy {
		t.Errorf("migrate_version DDL:\n%q\nwant sqlalchemy-migrate's\n%q", ddl, legacy)
	}
}

func TestFailingScriptRollsBackItsVersionOnly(t *testing.T) {
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		if !tdb.Dialect.TransactionalDDL() {
			t.Skip("DDL commits implicitly on this dialect: failures are journalled (TestJournal)")
		}
		ctx := context.Background()
		files := map[string]string{
			"001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);",
			"002_b_default_upgrade.sql": "CREATE TABLE t2 (id INTEGER);\n\n-- the next one fails\nINSERT INTO nope VALUES (1);\nCREATE TABLE never (id INTEGER);",
		}
		m := newMigrator(t, tdb, newRepo(t, files))
		res, err := m.Upgrade(ctx, ratchet.Latest)
		var se *ratchet.ScriptError
		if !errors.As(err, &se) {
			t.Fatalf("err = %v, want *ScriptError", err)
		}
		if se.Script != "versions/002_b_default_upgrade.sql" || se.Line != 4 || se.Version != 2 || se.Code == "" {
			t.Errorf("ScriptError = %+v", se)
		}
		if !strings.HasPrefix(err.Error(), "versions/002_b_default_upgrade.sql:4: ") || !strings.Contains(err.Error(), "nope") {
			t.Errorf("message = %q", err)
		}
		if res == nil || res.End != 1 {
			t.Errorf("result = %+v, want end 1", res)
		}
		if got := tables(t, tdb); got != "migrate_version,ratchet_history,t1" {
			t.Errorf("tables = %s: version 2 was not rolled back", got)
		}
		if v, _ := m.Version(ctx); v != 1 {
			t.Errorf("version = %d, want 1", v)
		}
	})
}

func TestRefusals(t *testing.T) {
	gap := map[string]string{
		"001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);",
		"003_c_default_upgrade.sql": "CREATE TABLE t3 (id INTEGER);",
	}
	python := map[string]string{
		"001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);",
		"002_legacy.py":             "def upgrade(migrate_engine): pass",
	}
	tests := []struct {
		name   string
		files  map[string]string
		setup  []string
		target int
		is     error
		msg    string
	}{
		{"beyond latest", threeVersions, nil, 7, ratchet.ErrVersionNotFound, "version 7 is not in the repository (latest is 3)"},
		{"gap crossed", gap, nil, 3, ratchet.ErrVersionNotFound, "version 2 is missing from the repository"},
		{"gap target", gap, nil, 2, ratchet.ErrVersionNotFound, "version 2 is not in the repository"},
		{"python only", python, nil, ratchet.Latest, ratchet.ErrNoScript, "versions/002_legacy.py: version 2 has only a Python script"},
		{"negative", threeVersions, nil, -5, ratchet.ErrInvalidVersion, "cannot be negative"},
		{"uncontrolled with tables", threeVersions, []string{"CREATE TABLE images (id INTEGER)", "CREATE TABLE alembic_version (v VARCHAR(32))"},
			ratchet.Latest, ratchet.ErrNotControlled, "not under version control but has tables (alembic_version, images); alembic_version suggests"},
		{"syntax error", map[string]string{"001_a_default_upgrade.sql": "SELECT 1;\nSELECT 'unterminated;"}, nil, ratchet.Latest, nil, "versions/001_a_default_upgrade.sql:2: "},
	}
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				for _, stmt := range tc.setup {
					if _, err := tdb.DB.Exec(stmt); err != nil {
						t.Fatal(err)
					}
				}
				defer func() {
					for _, name := range []string{"images", "alembic_version"} {
						tdb.DB.Exec("DROP TABLE IF EXISTS " + name)
					}
				}()
				before := tables(t, tdb)
				_, err := newMigrator(t, tdb, newRepo(t, tc.files)).Upgrade(ctx, tc.target)
				if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("err = %v, want %v containing %q", err, tc.is, tc.msg)
				}
				if after := tables(t, tdb); after != before {
					t.Errorf("tables changed from %q to %q", before, after)
				}
			})
		}
	})
}

func TestDowngradeRefused(t *testing.T) {
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		ctx := context.Background()
		m := newMigrator(t, tdb, newRepo(t, threeVersions))
		if _, err := m.Upgrade(ctx, 2); err != nil {
			t.Fatal(err)
		}
		_, err := m.Upgrade(ctx, 1)
		var de *ratchet.DowngradeError
		if !errors.As(err, &de) || de.Current != 2 || de.Target != 1 || !strings.Contains(err.Error(), "restore") {
			t.Fatalf("err = %v, want a DowngradeError 2 -> 1 advising a restore", err)
		}
		res, err := m.Upgrade(ctx, 2)
		if err != nil || len(res.Applied) != 0 {
			t.Fatalf("upgrade to current = %+v, %v; want a no-op", res, err)
		}
	})
}

func TestVersionControl(t *testing.T) {
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		ctx := context.Background()
		if _, err := tdb.DB.Exec("CREATE TABLE t1 (id INTEGER)"); err != nil {
			t.Fatal(err)
		}
		m := newMigrator(t, tdb, newRepo(t, threeVersions))
		if _, err := m.Version(ctx); !errors.Is(err, ratchet.ErrNotControlled) {
			t.Fatalf("Version on uncontrolled db: %v", err)
		}
		if err := m.VersionControl(ctx, 9); !errors.Is(err, ratchet.ErrVersionNotFound) {
			t.Fatalf("VersionControl(9) = %v", err)
		}
		if got := tables(t, tdb); got != "t1" {
			t.Fatalf("a refused version_control created tables: %s", got)
		}
		if err := m.VersionControl(ctx, 1); err != nil {
			t.Fatal(err)
		}
		var ae *ratchet.AlreadyControlledError
		if err := m.VersionControl(ctx, 2); !errors.As(err, &ae) || ae.Version != 1 {
			t.Fatalf("second VersionControl = %v, want already controlled at 1", err)
		}
		res, err := m.Upgrade(ctx, ratchet.Latest)
		if err != nil || res.Start != 1 || len(res.Applied) != 2 {
			t.Fatalf("upgrade = %+v, %v", res, err)
		}
	})
}

func TestSharedVersionTableStartsAtZero(t *testing.T) {
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		ctx := context.Background()
		db := tdb.DB
		m := newMigrator(t, tdb, newRepo(t, threeVersions))
		for _, stmt := range []string{
			tdb.Dialect.CreateVersionTable("migrate_version"),
			"INSERT INTO migrate_version VALUES ('someone_else', 'x', 7)",
			"CREATE TABLE their_table (id INTEGER)",
		} {
			if _, err := db.Exec(stmt); err != nil {
				t.Fatal(err)
			}
		}
		if v, err := m.Version(ctx); err != nil || v != 0 {
			t.Fatalf("Version = %d, %v; want 0", v, err)
		}
		if _, err := m.Upgrade(ctx, ratchet.Latest); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow("SELECT version FROM migrate_version WHERE repository_id = 'someone_else'").Scan(&n); err != nil || n != 7 {
			t.Fatalf("other repository's row = %d, %v; want untouched 7", n, err)
		}
	})
}

func TestGoMigrationRunsInTheVersionTransaction(t *testing.T) {
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		ctx := context.Background()
		repo := newRepo(t, map[string]string{"001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);"})
		var sawDialect dialect.Dialect
		err := repo.Register(repository.GoMigration{Version: 2, Name: "fill", Up: func(ctx context.Context, tx *sql.Tx) error {
			sawDialect, _ = dialect.FromContext(ctx)
			_, err := tx.ExecContext(ctx, "INSERT INTO t1 (id) VALUES ("+sawDialect.Param(1)+")", 42)
			return err
		}})
		if err != nil {
			t.Fatal(err)
		}
		if err := repo.Register(repository.GoMigration{Version: 3, Name: "fails", Up: func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, "INSERT INTO t1 (id) VALUES (43)"); err != nil {
				return err
			}
			return errors.New("boom")
		}}); err != nil {
			t.Fatal(err)
		}
		_, err = newMigrator(t, tdb, repo).Upgrade(ctx, ratchet.Latest)
		if err == nil || !strings.HasPrefix(err.Error(), "go:fails: boom") {
			t.Fatalf("err = %v, want go:fails: boom", err)
		}
		if sawDialect != tdb.Dialect {
			t.Errorf("Go migration saw dialect %v", sawDialect)
		}
		var n, sum int
		if err := tdb.DB.QueryRow("SELECT count(*), sum(id) FROM t1").Scan(&n, &sum); err != nil || n != 1 || sum != 42 {
			t.Errorf("t1: %d rows summing %d, %v; want 42 only (43 rolled back)", n, sum, err)
		}
	})
}

// TestConcurrentUpgrades runs several migrators, each with its own connection pool as
// separate processes would have, on one database: every version must run exactly once.
// concurrently runs fn n times at once, each on a Migrator with a pool of its own on tdb, and
// reports every error.
func concurrently(t *testing.T, tdb *testdb.DB, repo *repository.Repository, n int, fn func(m *ratchet.Migrator) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := ratchet.New(testdb.Open(t, tdb.URL), tdb.Dialect, repo, ratchet.WithDriver(tdb.Driver), ratchet.WithLockTimeout(30*time.Second))
			if err == nil {
				err = fn(m)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestConcurrentUpgrades(t *testing.T) {
	files := map[string]string{"001_counter_default_upgrade.sql": "CREATE TABLE runs (version INTEGER);\nINSERT INTO runs VALUES (1);"}
	for v := 2; v <= 20; v++ {
		files[fmt.Sprintf("%03d_step_default_upgrade.sql", v)] = fmt.Sprintf("INSERT INTO runs VALUES (%d);", v)
	}
	repo := newRepo(t, files)
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		concurrently(t, tdb, repo, 6, func(m *ratchet.Migrator) error {
			_, err := m.Upgrade(context.Background(), ratchet.Latest)
			return err
		})
		var n, distinct int
		if err := tdb.DB.QueryRow("SELECT count(*), count(DISTINCT version) FROM runs").Scan(&n, &distinct); err != nil {
			t.Fatal(err)
		}
		if n != 20 || distinct != 20 {
			t.Errorf("runs: %d rows, %d distinct; want every version exactly once (20)", n, distinct)
		}
	})
}

// TestTransactionStatementsRefused: a script that would end the version's transaction is
// refused before anything runs.
func TestTransactionStatementsRefused(t *testing.T) {
	for _, script := range []string{
		"CREATE TABLE g (id INTEGER);\nROLLBACK;\nCREATE TABLE h (id INTEGER);",
		"CREATE TABLE g (id INTEGER);\nCOMMIT AND CHAIN;\nCREATE TABLE h (id INTEGER);",
		"CREATE TABLE g (id INTEGER);\nSTART TRANSACTION;\nCREATE TABLE h (id INTEGER);",
	} {
		tdb := testdb.New(t, "sqlite")
		_, err := newMigrator(t, tdb, newRepo(t, map[string]string{"001_a_default_upgrade.sql": script})).Upgrade(context.Background(), ratchet.Latest)
		if err == nil || !strings.HasPrefix(err.Error(), "versions/001_a_default_upgrade.sql:2: ") || !strings.Contains(err.Error(), "would end the transaction") {
			t.Errorf("script %q: err = %v", script, err)
		}
		if got := tables(t, tdb); got != "" {
			t.Errorf("script %q: tables %s after the refusal", script, got)
		}
	}
}

// TestOutOfOrderVersionRefused: a version added below the current one after later versions
// ran is reported, not silently skipped.
func TestOutOfOrderVersionRefused(t *testing.T) {
	ctx := context.Background()
	tdb := testdb.New(t, "sqlite")
	files := map[string]string{
		"001_a_default_upgrade.sql": "CREATE TABLE a (id INTEGER);",
		"003_c_default_upgrade.sql": "CREATE TABLE c (id INTEGER);",
	}
	cfg := "[db_settings]\nrepository_id=test_repo\nuse_timestamp_numbering=True\n"
	load := func() *repository.Repository {
		fsys := fstest.MapFS{"migrate.cfg": {Data: []byte(cfg)}}
		for name, text := range files {
			fsys["versions/"+name] = &fstest.MapFile{Data: []byte(text)}
		}
		repo, err := repository.Load(fsys)
		if err != nil {
			t.Fatal(err)
		}
		return repo
	}
	if _, err := newMigrator(t, tdb, load()).Upgrade(ctx, ratchet.Latest); err != nil {
		t.Fatal(err)
	}
	files["002_b_default_upgrade.sql"] = "CREATE TABLE b (id INTEGER);"
	m := newMigrator(t, tdb, load())
	_, err := m.Upgrade(ctx, ratchet.Latest)
	var oe *ratchet.OutOfOrderError
	if !errors.As(err, &oe) || len(oe.Versions) != 1 || oe.Versions[0] != 2 || oe.Current != 3 {
		t.Fatalf("err = %v, want version 2 reported out of order", err)
	}
	st, err := m.Status(ctx)
	if err != nil || st.Versions[1].State != ratchet.Unapplied || len(st.Drifted()) != 1 {
		t.Fatalf("status = %+v, %v; want version 2 unapplied", st, err)
	}
}

// TestNullVersionUpgrades: the legacy schema allows a NULL version, which reads as 0.
func TestNullVersionUpgrades(t *testing.T) {
	ctx := context.Background()
	tdb := testdb.New(t, "sqlite")
	for _, stmt := range []string{
		tdb.Dialect.CreateVersionTable("migrate_version"),
		"INSERT INTO migrate_version VALUES ('test_repo', 'repo', NULL)",
	} {
		if _, err := tdb.DB.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	res, err := newMigrator(t, tdb, newRepo(t, threeVersions)).Upgrade(ctx, ratchet.Latest)
	if err != nil || res.End != 3 {
		t.Fatalf("upgrade from a NULL version = %+v, %v", res, err)
	}
}

// TestTimestampVersionsNeedSQLite: the version table's INTEGER is 32 bits on the servers.
func TestTimestampVersionsNeedSQLite(t *testing.T) {
	for _, name := range []string{"postgresql", "mysql"} {
		t.Run(name, func(t *testing.T) {
			tdb := testdb.New(t, name)
			repo := newRepo(t, map[string]string{"20240101000000_a_default_upgrade.sql": "CREATE TABLE a (id INTEGER);"})
			_, err := newMigrator(t, tdb, repo).Upgrade(context.Background(), ratchet.Latest)
			if !errors.Is(err, ratchet.ErrInvalidVersion) || !strings.Contains(err.Error(), "does not fit") {
				t.Fatalf("err = %v", err)
			}
			if got := tables(t, tdb); got != "" {
				t.Errorf("tables %s after the refusal", got)
			}
		})
	}
}

// TestPostgresErrorPositionNeedsNoRerun: on PostgreSQL a version goes to the server in one
// round trip, and the server's error position names the failing statement, so the version is
// not run again statement by statement to find it. nextval is not rolled back, so the
// sequence counts the runs; atomic upgrades send several versions in one round trip.
func TestPostgresErrorPositionNeedsNoRerun(t *testing.T) {
	for _, opts := range [][]ratchet.UpgradeOption{nil, {ratchet.Atomic()}} {
		t.Run(fmt.Sprintf("atomic=%v", opts != nil), func(t *testing.T) {
			tdb := testdb.New(t, "postgresql")
			if _, err := tdb.DB.Exec("CREATE SEQUENCE runs"); err != nil {
				t.Fatal(err)
			}
			m := newMigrator(t, tdb, newRepo(t, map[string]string{
				"001_a_default_upgrade.sql": "CREATE TABLE é (id INTEGER);",
				"002_b_default_upgrade.sql": "-- ünïcode before the failure\nSELECT nextval('runs');\nINSERT INTO é (id)\n  VALUES ('x');\nSELECT 1;",
			}))
			_, err := m.Upgrade(context.Background(), ratchet.Latest, opts...)
			var se *ratchet.ScriptError
			if !errors.As(err, &se) || se.Version != 2 || se.Line != 3 || se.Code != "22P02" {
				t.Fatalf("err = %v, want a *ScriptError for versions/002_b_default_upgrade.sql:3 (22P02)", err)
			}
			var runs int
			if err := tdb.DB.QueryRow("SELECT last_value FROM runs").Scan(&runs); err != nil || runs != 1 {
				t.Errorf("version 2 ran %d times, %v; want once", runs, err)
			}
		})
	}
}

// TestPanicInGoMigrationReleasesTheDatabase: a Go migration that panics propagates the panic,
// but its transaction is rolled back and the session released first: the version is not
// applied and the next run, from another pool, can take the lock and apply it (on MySQL,
// where the version is journalled, with --retry, as after a crash).
func TestPanicInGoMigrationReleasesTheDatabase(t *testing.T) {
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		files := map[string]string{"001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);"}
		withUp := func(up func(context.Context, *sql.Tx) error) *repository.Repository {
			repo := newRepo(t, files)
			if err := repo.Register(repository.GoMigration{Version: 2, Name: "fill", Up: up}); err != nil {
				t.Fatal(err)
			}
			return repo
		}
		panicking := withUp(func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, "INSERT INTO t1 (id) VALUES (1)"); err != nil {
				return err
			}
			panic("boom")
		})
		func() {
			defer func() {
				if p := recover(); p != "boom" {
					t.Errorf("recovered %v, want the migration's panic", p)
				}
			}()
			_, _ = newMigrator(t, tdb, panicking).Upgrade(context.Background(), ratchet.Latest)
		}()
		working := withUp(func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO t1 (id) VALUES (2)")
			return err
		})
		other, err := ratchet.New(testdb.Open(t, tdb.URL), tdb.Dialect, working, ratchet.WithDriver(tdb.Driver), ratchet.WithLockTimeout(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var opts []ratchet.UpgradeOption
		if !tdb.Dialect.TransactionalDDL() {
			// Journalled: as after a crash, the journal says the version was interrupted.
			if _, err := other.Upgrade(context.Background(), ratchet.Latest); !errors.Is(err, ratchet.ErrStopped) {
				t.Fatalf("the next run = %v, want ErrStopped", err)
			}
			opts = append(opts, ratchet.Retry())
		}
		if _, err := other.Upgrade(context.Background(), ratchet.Latest, opts...); err != nil {
			t.Fatalf("the next run: %v", err)
		}
		var n, sum int
		if err := tdb.DB.QueryRow("SELECT count(*), sum(id) FROM t1").Scan(&n, &sum); err != nil || n != 1 || sum != 2 {
			t.Errorf("t1: %d rows summing %d, %v; want the next run's row only", n, sum, err)
		}
	})
}
