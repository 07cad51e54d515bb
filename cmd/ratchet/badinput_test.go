package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ratchetdb/ratchet/cli"
	"github.com/ratchetdb/ratchet/internal/testdb"
)

// The bad-input suite runs every kind of input a user can get wrong — arguments, URLs,
// config files, migrate.cfg, script names, script bytes, backup files — through the built
// binary against a database of each dialect, and checks for each case the exit code, one
// line on stderr naming the culprit, and a database left exactly as it was: the SQLite
// file's SHA-256, or on a server a dump of the catalog and the bookkeeping. The cases are
// in badinput_cases_test.go.

// badInput is one case of the suite.
type badInput struct {
	name string
	// dialects the case applies to; nil means every dialect.
	dialects []string
	// code is the exit code wanted; 0 means [cli.ExitUsage].
	code int
	// want is a regular expression the stderr line must match after "ratchet: ".
	want string
	// prep changes what the case needs: the repository copy, files in the working
	// directory, …. May be nil.
	prep func(t *testing.T, e *badEnv)
	// args is the command line after the binary's name.
	args func(e *badEnv) []string
}

// badEnv is what a case runs with.
type badEnv struct {
	dialect string
	dir     string // the working directory, the case's own
	repo    string // the case's copy of the base repository
	url     string // the database, at version 1 of the base repository
	// missing is a database of the dialect that does not exist (an SQLite file in dir).
	missing string
	// backups holds, per dialect, a genuine backup of a database at version 1 of the base
	// repository; other holds one of a database of another repository (SQLite).
	backups map[string]string
	other   string
}

// std returns the global options that name the case's repository and database, then args.
func (e *badEnv) std(args ...string) []string {
	return append([]string{"--repository", e.repo, "--database", e.url}, args...)
}

// write writes a file under the working directory, creating its directory.
func (e *badEnv) write(t *testing.T, rel, content string) string {
	t.Helper()
	path := filepath.Join(e.dir, rel)
	if !filepath.IsAbs(rel) && strings.HasPrefix(rel, "repo/") {
		path = filepath.Join(e.repo, strings.TrimPrefix(rel, "repo/"))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// baseRepository is the repository every case starts from; the database is at version 1.
var baseRepository = map[string]string{
	"migrate.cfg": "[db_settings]\nrepository_id=badinput\nversion_table=migrate_version\n",
	"versions/001_create_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER, name VARCHAR(20));\n" +
		"INSERT INTO t1 (id, name) VALUES (1, 'one');\n",
	"versions/002_more_default_upgrade.sql": "CREATE TABLE t2 (id INTEGER);\n" +
		"INSERT INTO t1 (id, name) VALUES (2, 'two');\n",
}

// writeTree writes files (relative path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBadInput runs the bad-input suite on every dialect.
func TestBadInput(t *testing.T) {
	t.Parallel()
	cases := badInputCases()
	if len(cases) < 100 {
		t.Fatalf("the suite has %d cases; it must keep at least 100", len(cases))
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("two cases are named %q", c.name)
		}
		seen[c.name] = true
	}

	// One database per dialect at version 1, and a genuine backup of each.
	shared := t.TempDir()
	base := filepath.Join(shared, "repo")
	writeTree(t, base, baseRepository)
	dbs := map[string]*testdb.DB{}
	backups := map[string]string{}
	for _, name := range testdb.Dialects {
		tdb := testdb.New(t, name) // skips loudly, or fails in CI, when a server is unreachable
		dbs[name] = tdb
		runRatchet(t, "--repository", base, "--database", tdb.URL, "db", "sync", "1").mustSucceed(t)
		backups[name] = filepath.Join(shared, name+".ratchet-backup")
		runRatchet(t, "--repository", base, "--database", tdb.URL, "db", "backup", "--out", backups[name]).mustSucceed(t)
	}
	otherRepo := filepath.Join(shared, "other")
	writeTree(t, otherRepo, map[string]string{
		"migrate.cfg":                        "[db_settings]\nrepository_id=other\n",
		"versions/001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);\n",
	})
	otherDB := "sqlite:///" + filepath.Join(shared, "other.sqlite")
	other := filepath.Join(shared, "other.ratchet-backup")
	runRatchet(t, "--repository", otherRepo, "--database", otherDB, "db", "sync").mustSucceed(t)
	runRatchet(t, "--repository", otherRepo, "--database", otherDB, "db", "backup", "--out", other).mustSucceed(t)

	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tdb := dbs[name]
			before := snapshot(t, name, tdb)
			ran := 0
			for _, c := range cases {
				if c.dialects != nil && !slices.Contains(c.dialects, name) {
					continue
				}
				ran++
				t.Run(c.name, func(t *testing.T) {
					e := &badEnv{dialect: name, dir: t.TempDir(), url: tdb.URL, backups: backups, other: other}
					e.repo = filepath.Join(e.dir, "repo")
					writeTree(t, e.repo, baseRepository)
					e.missing = missingDatabase(t, name, tdb, e.dir)
					if c.prep != nil {
						c.prep(t, e)
					}
					filesBefore := listDir(t, e.dir)
					r := runInEnv(t, e.dir, cleanEnv(), append([]string{ratchetBin}, c.args(e)...)...)
					checkBadInput(t, c, r)
					if after := snapshot(t, name, tdb); after != before {
						t.Errorf("the database changed:\n--- before\n%s--- after\n%s", before, after)
						// Put it back, so that the next cases start from the same state.
						runRatchet(t, "--repository", base, "--database", tdb.URL, "db", "restore", backups[name], "--yes").mustSucceed(t)
						before = snapshot(t, name, tdb)
					}
					if files := listDir(t, e.dir); !slices.Equal(files, filesBefore) {
						t.Errorf("files in the working directory changed: before %v, after %v", filesBefore, files)
					}
					checkMissing(t, name, e.missing)
				})
			}
			t.Logf("%d bad-input cases on %s", ran, name)
		})
	}
}

// cleanEnv unsets the variables a user's environment could give ratchet, so that only a
// case's own arguments count.
func cleanEnv() []string {
	return []string{"RATCHET_DATABASE=", "RATCHET_REPOSITORY="}
}

// casePasswords are the passwords the cases put in URLs; no output may show them.
var casePasswords = []string{"tiger", "S3cr3t-pw"}

// checkBadInput checks the exit code, that stderr is one line naming the culprit, and that
// no password shows.
func checkBadInput(t *testing.T, c badInput, r cmdResult) {
	t.Helper()
	want := c.code
	if want == 0 {
		want = cli.ExitUsage
	}
	if r.code != want {
		t.Errorf("exit %d, want %d\n%s", r.code, want, r)
	}
	for _, pw := range casePasswords {
		if strings.Contains(r.stdout+r.stderr, pw) {
			t.Errorf("the password %q appears in the output:\n%s", pw, r)
		}
	}
	line, ok := strings.CutPrefix(r.stderr, "ratchet: ")
	if !ok || strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("stderr is not one line `ratchet: …`:\n%s", r)
		return
	}
	line = strings.TrimSuffix(line, "\n")
	t.Logf("exit %d: %s", r.code, line)
	if !regexp.MustCompile(c.want).MatchString(line) {
		t.Errorf("stderr %q does not match %q", line, c.want)
	}
}

// missingDatabase returns the URL of a database of the dialect that does not exist: a file
// in dir for SQLite, a name derived from the test database's on a server.
func missingDatabase(t *testing.T, name string, tdb *testdb.DB, dir string) string {
	t.Helper()
	if name == "sqlite" {
		return "sqlite:///" + filepath.Join(dir, "missing.sqlite")
	}
	return withDatabase(t, tdb.URL, tdb.Name+"_missing")
}

// checkMissing fails the test if the missing database now exists.
func checkMissing(t *testing.T, name, url string) {
	t.Helper()
	if name == "sqlite" {
		path := strings.TrimPrefix(url, "sqlite:///")
		if _, err := os.Lstat(path); err == nil {
			t.Errorf("%s was created", path)
		}
		return
	}
	admin := testdb.Admin(t, name)
	dbName := url[strings.LastIndex(url, "/")+1:]
	if i := strings.IndexByte(dbName, '?'); i >= 0 {
		dbName = dbName[:i]
	}
	var query string
	switch name {
	case "postgresql":
		query = "SELECT count(*) FROM pg_database WHERE datname = $1"
	case "mysql":
		query = "SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?"
	}
	var n int
	if err := admin.QueryRow(query, dbName).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s was created", dbName)
		if err := testdb.Drop(name, dbName); err != nil {
			t.Error(err)
		}
	}
}

// listDir lists the entries under dir, recursively, with their sizes.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		size := int64(0)
		if info, err := os.Lstat(path); err == nil && info.Mode().IsRegular() {
			size = info.Size()
		}
		out = append(out, fmt.Sprintf("%s:%d", rel, size))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// snapshot describes the database for the before/after comparison: an SQLite file's
// SHA-256 and the files beside it; a server database's columns, indexes, row counts and
// bookkeeping rows.
func snapshot(t *testing.T, dialectName string, tdb *testdb.DB) string {
	t.Helper()
	var b strings.Builder
	if dialectName == "sqlite" {
		data, err := os.ReadFile(tdb.Name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&b, "sha256 %s\n", hex.EncodeToString(sum[:]))
		for _, f := range listDir(t, filepath.Dir(tdb.Name)) {
			fmt.Fprintln(&b, f)
		}
		return b.String()
	}
	var catalog []string
	var listTables string
	switch dialectName {
	case "postgresql":
		listTables = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`
		catalog = []string{
			`SELECT table_schema, table_name, column_name, data_type, is_nullable FROM information_schema.columns
			 WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3`,
			`SELECT schemaname, tablename, indexdef FROM pg_indexes
			 WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3`,
			`SELECT nspname FROM pg_namespace ORDER BY 1`,
		}
	case "mysql":
		listTables = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1`
		catalog = []string{
			`SELECT table_name, column_name, column_type, is_nullable FROM information_schema.columns
			 WHERE table_schema = DATABASE() ORDER BY 1, 2`,
			`SELECT table_name, index_name, column_name, seq_in_index FROM information_schema.statistics
			 WHERE table_schema = DATABASE() ORDER BY 1, 2, 4`,
			`SELECT routine_name FROM information_schema.routines WHERE routine_schema = DATABASE() ORDER BY 1`,
		}
	}
	tables, err := testdb.Strings(tdb.DB, listTables)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		catalog = append(catalog, "SELECT '"+table+"', count(*) FROM "+table)
	}
	catalog = append(catalog,
		"SELECT repository_id, repository_path, version FROM migrate_version ORDER BY 1",
		"SELECT repository_id, version, script, checksum, statements FROM ratchet_history ORDER BY 1, 2",
		"SELECT id, name FROM t1 ORDER BY 1")
	return queriesText(t, tdb.DB, catalog)
}

// sqliteURL returns an SQLite URL for a path.
func sqliteURL(path string) string { return "sqlite:///" + path }
