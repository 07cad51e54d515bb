package ratchet_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	_ "modernc.org/sqlite"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/dialect"
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

// openSQLite opens an SQLite file the way cmd/ratchet does.
func openSQLite(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(20000)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func newMigrator(t testing.TB, db *sql.DB, repo *repository.Repository) *ratchet.Migrator {
	t.Helper()
	m, err := ratchet.New(db, dialect.SQLite, repo, ratchet.WithRepositoryPath("repo"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func tables(t testing.TB, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return strings.Join(names, ",")
}

var threeVersions = map[string]string{
	"001_create_t1_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER PRIMARY KEY);",
	"002_create_t2_default_upgrade.sql": "CREATE TABLE t2 (id INTEGER PRIMARY KEY);\nINSERT INTO t1 (id) VALUES (1);",
	"003_create_t3_sqlite_upgrade.sql":  "CREATE TABLE t3 (id INTEGER PRIMARY KEY);",
	"003_create_t3_default_upgrade.sql": "CREATE TABLE wrong (id INTEGER);",
}

func TestVersionOfEmptyDatabaseWritesNothing(t *testing.T) {
	db := openSQLite(t, filepath.Join(t.TempDir(), "db.sqlite"))
	m := newMigrator(t, db, newRepo(t, threeVersions))
	v, err := m.Version(context.Background())
	if err != nil || v != 0 {
		t.Fatalf("Version = %d, %v; want 0, nil", v, err)
	}
	if got := tables(t, db); got != "" {
		t.Errorf("tables after Version: %q, want none", got)
	}
}

func TestUpgradeStampsAndAppliesInOrder(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, filepath.Join(t.TempDir(), "db.sqlite"))
	m := newMigrator(t, db, newRepo(t, threeVersions))
	res, err := m.Upgrade(ctx, ratchet.Latest)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stamped || res.Start != 0 || res.End != 3 || len(res.Applied) != 3 {
		t.Fatalf("result = %+v", res)
	}
	if res.Applied[2].Script != "versions/003_create_t3_sqlite_upgrade.sql" {
		t.Errorf("version 3 ran %s, want the sqlite script", res.Applied[2].Script)
	}
	if got := tables(t, db); got != "migrate_version,ratchet_history,t1,t2,t3" {
		t.Errorf("tables = %s", got)
	}
	var ddl string
	if err := db.QueryRow("SELECT sql FROM sqlite_master WHERE name = 'migrate_version'").Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	const legacy = "CREATE TABLE migrate_version (\n\trepository_id VARCHAR(250) NOT NULL, \n\trepository_path TEXT, \n\tversion INTEGER, \n\tPRIMARY KEY (repository_id)\n)"
	if ddl != legacy {
		t.Errorf("migrate_version DDL:\n%q\nwant sqlalchemy-migrate's\n%q", ddl, legacy)
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
	// Again: nothing to do.
	res, err = m.Upgrade(ctx, ratchet.Latest)
	if err != nil || len(res.Applied) != 0 || res.Stamped || res.End != 3 {
		t.Fatalf("second upgrade = %+v, %v", res, err)
	}
}

func TestFailingScriptRollsBackItsVersionOnly(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{
		"001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);",
		"002_b_default_upgrade.sql": "CREATE TABLE t2 (id INTEGER);\n\n-- the next one fails\nINSERT INTO nope VALUES (1);\nCREATE TABLE never (id INTEGER);",
	}
	db := openSQLite(t, filepath.Join(t.TempDir(), "db.sqlite"))
	m := newMigrator(t, db, newRepo(t, files))
	res, err := m.Upgrade(ctx, ratchet.Latest)
	var se *ratchet.ScriptError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *ScriptError", err)
	}
	if se.Script != "versions/002_b_default_upgrade.sql" || se.Line != 4 || se.Version != 2 {
		t.Errorf("ScriptError = %+v", se)
	}
	if !strings.HasPrefix(err.Error(), "versions/002_b_default_upgrade.sql:4: ") || !strings.Contains(err.Error(), "no such table: nope") {
		t.Errorf("message = %q", err)
	}
	if res == nil || res.End != 1 {
		t.Errorf("result = %+v, want end 1", res)
	}
	if got := tables(t, db); got != "migrate_version,ratchet_history,t1" {
		t.Errorf("tables = %s: version 2 was not rolled back", got)
	}
	if v, _ := m.Version(ctx); v != 1 {
		t.Errorf("version = %d, want 1", v)
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
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
		setup  string
		target int
		is     error
		msg    string
	}{
		{"beyond latest", threeVersions, "", 7, ratchet.ErrVersionNotFound, "version 7 is not in the repository (latest is 3)"},
		{"gap crossed", gap, "", 3, ratchet.ErrVersionNotFound, "version 2 is missing from the repository"},
		{"gap target", gap, "", 2, ratchet.ErrVersionNotFound, "version 2 is not in the repository"},
		{"python only", python, "", ratchet.Latest, ratchet.ErrNoScript, "versions/002_legacy.py: version 2 has only a Python script"},
		{"negative", threeVersions, "", -5, ratchet.ErrInvalidVersion, "cannot be negative"},
		{"uncontrolled with tables", threeVersions, "CREATE TABLE images (id INTEGER); CREATE TABLE alembic_version (v TEXT)", ratchet.Latest, ratchet.ErrNotControlled, "not under version control but has tables (alembic_version, images); alembic_version suggests"},
		{"syntax error", map[string]string{"001_a_default_upgrade.sql": "SELECT 1;\nSELECT 'unterminated;"}, "", ratchet.Latest, nil, "versions/001_a_default_upgrade.sql:2: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openSQLite(t, filepath.Join(t.TempDir(), "db.sqlite"))
			if tc.setup != "" {
				if _, err := db.Exec(tc.setup); err != nil {
					t.Fatal(err)
				}
			}
			before := tables(t, db)
			_, err := newMigrator(t, db, newRepo(t, tc.files)).Upgrade(ctx, tc.target)
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.is, tc.msg)
			}
			if after := tables(t, db); after != before {
				t.Errorf("tables changed from %q to %q", before, after)
			}
		})
	}
}

func TestDowngradeRefused(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, filepath.Join(t.TempDir(), "db.sqlite"))
	m := newMigrator(t, db, newRepo(t, threeVersions))
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
}

func TestVersionControl(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, filepath.Join(t.TempDir(), "db.sqlite"))
	if _, err := db.Exec("CREATE TABLE t1 (id INTEGER)"); err != nil {
		t.Fatal(err)
	}
	m := newMigrator(t, db, newRepo(t, threeVersions))
	if _, err := m.Version(ctx); !errors.Is(err, ratchet.ErrNotControlled) {
		t.Fatalf("Version on uncontrolled db: %v", err)
	}
	if err := m.VersionControl(ctx, 9); !errors.Is(err, ratchet.ErrVersionNotFound) {
		t.Fatalf("VersionControl(9) = %v", err)
	}
	if got := tables(t, db); got != "t1" {
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
}

func TestSharedVersionTableStartsAtZero(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, filepath.Join(t.TempDir(), "db.sqlite"))
	m := newMigrator(t, db, newRepo(t, threeVersions))
	other := "CREATE TABLE migrate_version (repository_id VARCHAR(250) NOT NULL, repository_path TEXT, version INTEGER, PRIMARY KEY (repository_id));" +
		"INSERT INTO migrate_version VALUES ('someone_else', 'x', 7); CREATE TABLE their_table (id INTEGER);"
	if _, err := db.Exec(other); err != nil {
		t.Fatal(err)
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
}

func TestGoMigrationRunsInTheVersionTransaction(t *testing.T) {
	ctx := context.Background()
	repo := newRepo(t, map[string]string{"001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);"})
	var sawDialect *dialect.Dialect
	err := repo.Register(repository.GoMigration{Version: 2, Name: "fill", Up: func(ctx context.Context, tx *sql.Tx) error {
		sawDialect = dialect.FromContext(ctx)
		_, err := tx.ExecContext(ctx, "INSERT INTO t1 (id) VALUES (42)")
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
	db := openSQLite(t, filepath.Join(t.TempDir(), "db.sqlite"))
	_, err = newMigrator(t, db, repo).Upgrade(ctx, ratchet.Latest)
	if err == nil || err.Error() != "go:fails: boom" {
		t.Fatalf("err = %v, want go:fails: boom", err)
	}
	if sawDialect != dialect.SQLite {
		t.Errorf("Go migration saw dialect %v", sawDialect)
	}
	var ids string
	if err := db.QueryRow("SELECT group_concat(id) FROM t1").Scan(&ids); err != nil || ids != "42" {
		t.Errorf("t1 ids = %q, %v; want 42 only (43 rolled back)", ids, err)
	}
}

// TestConcurrentUpgrades runs several migrators, each with its own connection as separate
// processes would have, on one SQLite file: every version must run exactly once.
func TestConcurrentUpgrades(t *testing.T) {
	files := map[string]string{"001_counter_default_upgrade.sql": "CREATE TABLE runs (version INTEGER);\nINSERT INTO runs VALUES (1);"}
	for v := 2; v <= 20; v++ {
		files[strings.Replace("0NN_step_default_upgrade.sql", "NN", twoDigits(v), 1)] = "INSERT INTO runs VALUES (" + twoDigits(v) + ");"
	}
	repo := newRepo(t, files)
	path := filepath.Join(t.TempDir(), "db.sqlite")
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(20000)&_txlock=immediate")
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			m, err := ratchet.New(db, dialect.SQLite, repo)
			if err != nil {
				errs <- err
				return
			}
			_, err = m.Upgrade(context.Background(), ratchet.Latest)
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
	db := openSQLite(t, path)
	var n, distinct int
	if err := db.QueryRow("SELECT count(*), count(DISTINCT version) FROM runs").Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != 20 || distinct != 20 {
		t.Errorf("runs: %d rows, %d distinct; want every version exactly once (20)", n, distinct)
	}
}

func twoDigits(v int) string {
	return string([]byte{byte('0' + v/10), byte('0' + v%10)})
}
