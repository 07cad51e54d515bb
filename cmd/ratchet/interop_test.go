package main

// Interoperability with the real sqlalchemy-migrate: a database either tool controls must be
// continued by the other, and a repository either tool creates must be usable by the other.
// The legacy tool runs through testdata/interop/migrate.py (see the packaging note in
// legacy-semantics.md). Without python3 and its migrate module the tests skip loudly, or
// fail when RATCHET_TEST_REQUIRE_SERVERS=1.

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/testdb"
	"github.com/ratchetdb/ratchet/internal/testenv"
)

// interopRepo is the repository both tools run, relative to the package directory.
const interopRepo = "../../testdata/interop/repo"

// TestInteropLegacyFirst: the legacy tool puts a database under version control and upgrades
// it to 2; ratchet reads that state, reports it and finishes the upgrade; the legacy tool
// then sees version 4.
func TestInteropLegacyFirst(t *testing.T) {
	legacy := findLegacy(t)
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newInteropEnv(t, legacy, name)
			e.legacyDB("version_control").mustSucceed(t)
			up := e.legacyDB("upgrade", "2").mustSucceed(t)
			for _, step := range []string{"0 -> 1... ", "1 -> 2... "} {
				if !strings.Contains(up, step) {
					t.Errorf("legacy upgrade output %q lacks %q", up, step)
				}
			}

			if v := strings.TrimSpace(e.ratchet("db", "version").mustSucceed(t)); v != "2" {
				t.Fatalf("ratchet db version = %q after the legacy upgrade to 2", v)
			}
			status := e.ratchet("db", "status").mustSucceed(t)
			matchLines(t, "db status after the legacy upgrade", status,
				`^1\s+applied\s+unknown\s+versions/001_create_images_default_upgrade\.sql$`,
				`^2\s+applied\s+unknown\s+versions/`+regexp.QuoteMeta("002_record_dbms_"+e.dbms2+"_upgrade.sql")+`$`,
				`^3\s+pending\s+-\s+versions/003_add_tags_default_upgrade\.sql$`,
				`^4\s+pending\s+-\s+versions/004_add_size_default_upgrade\.sql$`)

			sync := e.ratchet("db", "sync")
			out := sync.mustSucceed(t)
			matchLines(t, "db sync", out, `^2 -> 3\s`, `^3 -> 4\s`)
			if strings.Contains(out, "0 -> 1") || strings.Contains(out, "1 -> 2") {
				t.Errorf("ratchet reapplied versions the legacy tool had applied:\n%s", out)
			}
			if !strings.Contains(sync.stderr, `"BEGIN" ignored`) || !strings.Contains(sync.stderr, `"COMMIT" ignored`) {
				t.Errorf("db sync did not warn about the skipped BEGIN/COMMIT lines of version 3; stderr:\n%s", sync.stderr)
			}

			if v := strings.TrimSpace(e.legacyDB("db_version").mustSucceed(t)); v != "4" {
				t.Errorf("legacy db_version = %q after ratchet's sync, want 4", v)
			}
			e.checkSchema(t)
			status = e.ratchet("db", "status").mustSucceed(t)
			matchLines(t, "db status after db sync", status,
				`^2\s+applied\s+unknown\s`,
				`^4\s+applied\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+versions/004_add_size_default_upgrade\.sql$`)
		})
	}
}

// TestInteropRatchetFirst: ratchet upgrades an empty database to 2; the legacy tool reads
// that state and finishes the upgrade; ratchet then sees version 4 and has nothing to do.
func TestInteropRatchetFirst(t *testing.T) {
	legacy := findLegacy(t)
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newInteropEnv(t, legacy, name)
			e.ratchet("db", "sync", "2").mustSucceed(t)

			if v := strings.TrimSpace(e.legacyDB("db_version").mustSucceed(t)); v != "2" {
				t.Fatalf("legacy db_version = %q after ratchet's sync to 2", v)
			}
			up := e.legacyDB("upgrade").mustSucceed(t)
			if !strings.Contains(up, "2 -> 3... ") || !strings.Contains(up, "3 -> 4... ") || strings.Contains(up, "1 -> 2") {
				t.Errorf("legacy upgrade from ratchet's version 2 printed %q, want exactly the steps 2 -> 3 and 3 -> 4", up)
			}

			if v := strings.TrimSpace(e.ratchet("db", "version").mustSucceed(t)); v != "4" {
				t.Fatalf("ratchet db version = %q after the legacy upgrade, want 4", v)
			}
			if out := e.ratchet("db", "sync").mustSucceed(t); strings.Contains(out, "->") {
				t.Errorf("db sync at the latest version applied something:\n%s", out)
			}
			e.ratchet("db", "check").mustSucceed(t)
			e.checkSchema(t)
			if got := e.versionRows(t); got != "interop\trepo\t4\n" {
				t.Errorf("migrate_version rows = %q, want the one row interop/repo/4", got)
			}
		})
	}
}

// TestInteropVersionTable: the version table ratchet creates, by db sync and by
// db version_control, is the one the legacy tool creates, and both record the same row.
func TestInteropVersionTable(t *testing.T) {
	legacy := findLegacy(t)
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			byLegacy := newInteropEnv(t, legacy, name)
			byLegacy.legacyDB("version_control").mustSucceed(t)
			byLegacy.legacyDB("upgrade").mustSucceed(t)
			want := byLegacy.versionTableShape(t)
			if want == "" {
				t.Fatal("found no migrate_version table in the database the legacy tool controls")
			}
			// repository_path is the path exactly as given: both tools were passed "repo".
			const wantRows = "interop\trepo\t4\n"
			if got := byLegacy.versionRows(t); got != wantRows {
				t.Errorf("migrate_version rows after the legacy upgrade = %q, want %q", got, wantRows)
			}
			for _, path := range []struct {
				how  string
				runs [][]string
			}{
				{"db sync", [][]string{{"db", "sync"}}},
				{"db version_control, db upgrade", [][]string{{"db", "version_control"}, {"db", "upgrade"}}},
			} {
				e := newInteropEnv(t, legacy, name)
				for _, args := range path.runs {
					e.ratchet(args...).mustSucceed(t)
				}
				if diff := cmp.Diff(want, e.versionTableShape(t)); diff != "" {
					t.Errorf("migrate_version created by ratchet %s differs from the legacy one (-legacy +ratchet):\n%s", path.how, diff)
				}
				if got := e.versionRows(t); got != wantRows {
					t.Errorf("migrate_version rows after ratchet %s = %q, want %q", path.how, got, wantRows)
				}
			}
		})
	}
}

// TestInteropRepository: a repository made with ratchet repo init/new runs under the legacy
// tool, and one made with the legacy create/script_sql runs under ratchet.
func TestInteropRepository(t *testing.T) {
	legacy := findLegacy(t)

	t.Run("ratchet-made", func(t *testing.T) {
		dir := t.TempDir()
		runIn(t, dir, ratchetBin, "repo", "init", "repo", "--id", "made by ratchet").mustSucceed(t)
		fillNewScript(t, dir, "create widgets", "CREATE TABLE widgets (id INTEGER NOT NULL, PRIMARY KEY (id));\n")
		fillNewScript(t, dir, "add widget names", "ALTER TABLE widgets ADD COLUMN name VARCHAR(80);\nINSERT INTO widgets (id, name) VALUES (1, 'one');\n")
		if v := strings.TrimSpace(legacy.run(t, dir, "version", "repo").mustSucceed(t)); v != "2" {
			t.Fatalf("legacy version of ratchet's repository = %q, want 2", v)
		}
		for _, name := range testdb.Dialects {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := newInteropEnvIn(t, legacy, name, dir)
				e.legacyDB("version_control").mustSucceed(t)
				e.legacyDB("upgrade").mustSucceed(t)
				if v := strings.TrimSpace(e.ratchet("db", "version").mustSucceed(t)); v != "2" {
					t.Errorf("ratchet db version = %q after the legacy upgrade of ratchet's repository, want 2", v)
				}
				if got := e.query(t, "SELECT id, name FROM widgets"); got != "1\tone\n" {
					t.Errorf("widgets = %q after the legacy upgrade, want the row 1/one", got)
				}
				if got := e.versionRows(t); got != "made by ratchet\trepo\t2\n" {
					t.Errorf("migrate_version rows = %q", got)
				}
			})
		}
	})

	t.Run("legacy-made", func(t *testing.T) {
		dir := t.TempDir()
		legacy.run(t, dir, "create", "repo", "made_by_legacy").mustSucceed(t)
		legacy.run(t, dir, "script_sql", "default", "create gadgets", "repo").mustSucceed(t)
		legacy.run(t, dir, "script_sql", "sqlite", "add gadget names", "repo").mustSucceed(t)
		legacy.run(t, dir, "script_sql", "default", "add gadget names", "repo").mustSucceed(t)
		// Each script_sql call allocates a new version with an empty upgrade and downgrade script.
		versions := filepath.Join(dir, "repo", "versions")
		var created []string
		for _, pattern := range []string{"*.sql", "*.py"} {
			m, err := filepath.Glob(filepath.Join(versions, pattern))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range m {
				created = append(created, filepath.Base(f))
			}
		}
		wantCreated := []string{
			"001_create_gadgets_default_downgrade.sql", "001_create_gadgets_default_upgrade.sql",
			"002_add_gadget_names_sqlite_downgrade.sql", "002_add_gadget_names_sqlite_upgrade.sql",
			"003_add_gadget_names_default_downgrade.sql", "003_add_gadget_names_default_upgrade.sql",
			"__init__.py",
		}
		if diff := cmp.Diff(wantCreated, created); diff != "" {
			t.Fatalf("legacy create and script_sql made other scripts than expected (-want +got):\n%s", diff)
		}
		writeText(t, filepath.Join(versions, "001_create_gadgets_default_upgrade.sql"),
			"CREATE TABLE gadgets (id INTEGER NOT NULL, PRIMARY KEY (id));\n")
		writeText(t, filepath.Join(versions, "002_add_gadget_names_sqlite_upgrade.sql"),
			"ALTER TABLE gadgets ADD COLUMN name VARCHAR(80);\n")
		writeText(t, filepath.Join(versions, "003_add_gadget_names_default_upgrade.sql"),
			"INSERT INTO gadgets (id, name) VALUES (7, 'seven');\n")
		// Version 2 also needs a script for the other databases, beside the sqlite one.
		writeText(t, filepath.Join(versions, "002_add_gadget_names_default_upgrade.sql"),
			"ALTER TABLE gadgets ADD COLUMN name VARCHAR(80);\n")

		if v := strings.TrimSpace(legacy.run(t, dir, "version", "repo").mustSucceed(t)); v != "3" {
			t.Fatalf("legacy version = %q, want 3", v)
		}
		if v := strings.TrimSpace(runIn(t, dir, ratchetBin, "--repository", "repo", "repo", "version").mustSucceed(t)); v != "3" {
			t.Errorf("ratchet repo version of the legacy repository = %q, want 3", v)
		}
		lint := runIn(t, dir, ratchetBin, "--repository", "repo", "repo", "lint").mustSucceed(t)
		// The __init__.py that sqlalchemy-migrate (and repo init) write is expected, not a finding.
		if _, err := os.Stat(filepath.Join(versions, "__init__.py")); err != nil {
			t.Fatalf("the legacy repository has no versions/__init__.py: %v", err)
		}
		if strings.Contains(lint, "versions/__init__.py") || !strings.Contains(lint, `repository "made_by_legacy"`) {
			t.Errorf("repo lint of the legacy repository lists versions/__init__.py or does not name the repository:\n%s", lint)
		}
		for _, name := range testdb.Dialects {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := newInteropEnvIn(t, legacy, name, dir)
				e.ratchet("db", "sync").mustSucceed(t)
				if got := e.query(t, "SELECT id, name FROM gadgets"); got != "7\tseven\n" {
					t.Errorf("gadgets = %q after ratchet's sync, want the row 7/seven", got)
				}
				if v := strings.TrimSpace(e.legacyDB("db_version").mustSucceed(t)); v != "3" {
					t.Errorf("legacy db_version = %q after ratchet's sync, want 3", v)
				}
			})
		}
	})
}

// fillNewScript creates the next script of the repository dir/repo with ratchet repo new and
// writes body into it.
func fillNewScript(t *testing.T, dir, description, body string) {
	t.Helper()
	out := runIn(t, dir, ratchetBin, "--repository", "repo", "repo", "new", description).mustSucceed(t)
	path := strings.TrimSpace(out)
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("repo new %q printed %q, which is not the new script: %v", description, out, err)
	}
	writeText(t, path, body)
}

// writeText writes text to the file at path, replacing it.
func writeText(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// legacyTool runs the real sqlalchemy-migrate command-line tool.
type legacyTool struct {
	python  string          // an interpreter that imports the migrate package
	script  string          // absolute path of testdata/interop/migrate.py
	modules map[string]bool // the optional modules it imports (database drivers)
}

// legacyDriver returns, for a dialect, the Python module SQLAlchemy needs and its Debian package.
func legacyDriver(name string) (module, pkg string) {
	switch name {
	case "postgresql":
		return "psycopg2", "python3-psycopg2"
	case "mysql":
		return "pymysql", "python3-pymysql"
	}
	return "", "" // sqlite3 is part of Python
}

// legacyProbe prints the modules, among those the tests need, that the interpreter imports.
const legacyProbe = `
import importlib
for name in ("migrate.versioning.shell", "sqlalchemy", "psycopg2", "pymysql"):
    try:
        importlib.import_module(name)
        print(name)
    except Exception:
        pass
`

// findLegacy returns the legacy tool, or skips the test (fails it in CI) when no python3
// imports sqlalchemy-migrate.
func findLegacy(t *testing.T) *legacyTool {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "..", "testdata", "interop", "migrate.py"))
	if err != nil {
		t.Fatal(err)
	}
	// Debian's python3-migrate installs into the system interpreter, which an interpreter
	// earlier on PATH (pyenv, a virtualenv) may not see.
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	var tried []string
	for _, py := range candidates {
		out, err := exec.Command(py, "-c", legacyProbe).Output()
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", py, err))
			continue
		}
		modules := make(map[string]bool)
		for _, m := range strings.Fields(string(out)) {
			modules[m] = true
		}
		if modules["migrate.versioning.shell"] && modules["sqlalchemy"] {
			return &legacyTool{python: py, script: script, modules: modules}
		}
		tried = append(tried, py+": cannot import migrate.versioning.shell")
	}
	interopSkip(t, "no python3 with sqlalchemy-migrate (Debian package python3-migrate); tried "+strings.Join(tried, "; "))
	return nil
}

// require skips the test (fails it in CI) when the legacy tool lacks the driver for a dialect.
func (l *legacyTool) require(t *testing.T, name string) {
	t.Helper()
	if module, pkg := legacyDriver(name); module != "" && !l.modules[module] {
		interopSkip(t, fmt.Sprintf("%s cannot import %s, which sqlalchemy-migrate needs for %s (Debian package %s)", l.python, module, name, pkg))
	}
}

// run runs the legacy tool in dir: `migrate ARGS...`.
func (l *legacyTool) run(t *testing.T, dir string, args ...string) cmdResult {
	t.Helper()
	return runInEnv(t, dir, []string{"PYTHONDONTWRITEBYTECODE=1"}, append([]string{l.python, l.script}, args...)...)
}

// interopSkip skips the test with a loud message, or fails it when
// RATCHET_TEST_REQUIRE_SERVERS=1 says everything must run.
func interopSkip(t *testing.T, msg string) {
	t.Helper()
	if testdb.Required() {
		t.Fatal(msg + " (RATCHET_TEST_REQUIRE_SERVERS=1)")
	}
	t.Log(msg)
	testenv.Skip(t, "sqlalchemy-migrate is not installed for the interop tests (Debian packages python3-migrate, python3-psycopg2, python3-pymysql)")
}

// interopEnv is one fresh database and a repository that both tools run from the same
// working directory.
type interopEnv struct {
	t      *testing.T
	legacy *legacyTool
	db     *testdb.DB
	dir    string // working directory of both tools; the repository is dir/repo, passed as "repo"
	url    string // the database URL in SQLAlchemy form, given as is to both tools
	dbms2  string // the dbms of the script version 2 of the interop repository runs here
}

// newInteropEnv copies testdata/interop/repo into a new working directory and returns it
// with a fresh database of the named dialect.
func newInteropEnv(t *testing.T, legacy *legacyTool, name string) *interopEnv {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "repo"), os.DirFS(filepath.FromSlash(interopRepo))); err != nil {
		t.Fatal(err)
	}
	return newInteropEnvIn(t, legacy, name, dir)
}

// newInteropEnvIn returns a fresh database of the named dialect for the repository dir/repo.
func newInteropEnvIn(t *testing.T, legacy *legacyTool, name, dir string) *interopEnv {
	t.Helper()
	legacy.require(t, name)
	tdb := testdb.New(t, name)
	e := &interopEnv{t: t, legacy: legacy, db: tdb, dir: dir, url: sqlalchemyURL(t, tdb), dbms2: "default"}
	if tdb.Dialect != dialect.MySQL {
		e.dbms2 = tdb.Dialect.Name()
	}
	return e
}

// sqlalchemyURL returns the URL of a test database as SQLAlchemy spells it for the drivers
// the legacy tool uses (sqlite3, psycopg2, pymysql).
func sqlalchemyURL(t *testing.T, tdb *testdb.DB) string {
	t.Helper()
	if tdb.Dialect == dialect.SQLite {
		return "sqlite:///" + tdb.Name // an absolute path: four slashes
	}
	u, err := url.Parse(tdb.URL)
	if err != nil {
		t.Fatalf("test database URL: %v", err)
	}
	switch tdb.Dialect {
	case dialect.Postgres:
		u.Scheme = "postgresql" // SQLAlchemy 1.4 refuses postgres://
	case dialect.MySQL:
		u.Scheme = "mysql+pymysql"
		u.RawQuery = "" // Go driver parameters mean nothing to pymysql
	}
	return u.String()
}

// ratchet runs ratchet on the environment's repository and database.
func (e *interopEnv) ratchet(args ...string) cmdResult {
	e.t.Helper()
	return runIn(e.t, e.dir, append([]string{ratchetBin, "--repository", "repo", "--database", e.url}, args...)...)
}

// legacyDB runs a legacy command that takes the database URL and repository first:
// `migrate COMMAND URL repo EXTRA...`.
func (e *interopEnv) legacyDB(command string, extra ...string) cmdResult {
	e.t.Helper()
	return e.legacy.run(e.t, e.dir, append([]string{command, e.url, "repo"}, extra...)...)
}

// query returns the rows of a query on the environment's database as text.
func (e *interopEnv) query(t *testing.T, q string) string {
	t.Helper()
	out, err := queryText(e.db.DB, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// versionRows returns the rows of migrate_version.
func (e *interopEnv) versionRows(t *testing.T) string {
	t.Helper()
	return e.query(t, "SELECT repository_id, repository_path, version FROM migrate_version ORDER BY repository_id")
}

// checkSchema checks that the database holds exactly what versions 1 to 4 of the interop
// repository create, each version having run once with the script meant for the dialect.
func (e *interopEnv) checkSchema(t *testing.T) {
	t.Helper()
	for _, c := range []struct{ query, want string }{
		{"SELECT version, dbms FROM applied ORDER BY version", "2\t" + e.dbms2 + "\n4\tdefault\n"},
		{"SELECT id, name, size FROM images", "img-1\tfirst; -- not a comment\tNULL\n"},
		{"SELECT image_id, value FROM image_tags", "img-1\tgold\n"},
	} {
		if got := e.query(t, c.query); got != c.want {
			t.Errorf("%s: got %q, want %q", c.query, got, c.want)
		}
	}
}

// versionTableShape describes the definition of migrate_version as the database reports it:
// the stored DDL on SQLite, the columns and keys from information_schema on PostgreSQL, and
// SHOW CREATE TABLE on MySQL/MariaDB.
func (e *interopEnv) versionTableShape(t *testing.T) string {
	t.Helper()
	var queries []string
	switch e.db.Dialect {
	case dialect.SQLite:
		queries = []string{"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'migrate_version'"}
	case dialect.Postgres:
		queries = []string{
			`SELECT c.column_name, c.data_type, coalesce(c.character_maximum_length, 0), c.is_nullable,
			        coalesce(c.column_default, ''),
			        EXISTS (SELECT 1 FROM information_schema.table_constraints tc
			                JOIN information_schema.key_column_usage k
			                  ON k.constraint_schema = tc.constraint_schema AND k.constraint_name = tc.constraint_name
			                WHERE tc.table_schema = c.table_schema AND tc.table_name = c.table_name
			                  AND tc.constraint_type = 'PRIMARY KEY' AND k.column_name = c.column_name) AS primary_key
			   FROM information_schema.columns c
			  WHERE c.table_schema = current_schema() AND c.table_name = 'migrate_version'
			  ORDER BY c.ordinal_position`,
			`SELECT constraint_name, constraint_type FROM information_schema.table_constraints
			  WHERE table_schema = current_schema() AND table_name = 'migrate_version'
			    AND constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')
			  ORDER BY constraint_name`,
		}
	case dialect.MySQL:
		queries = []string{"SHOW CREATE TABLE migrate_version"}
	default:
		t.Fatalf("no version table query for dialect %s", e.db.Dialect.Name())
	}
	var b strings.Builder
	for _, q := range queries {
		b.WriteString(e.query(t, q))
	}
	return b.String()
}

// matchLines checks that out has a line matching each pattern.
func matchLines(t *testing.T, what, out string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile("(?m)" + p).MatchString(out) {
			t.Errorf("%s: no line matches %s in:\n%s", what, p, out)
		}
	}
}
