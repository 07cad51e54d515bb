package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/dburl"
	"github.com/ratchetdb/ratchet/internal/testdb"
)

// tricky is stored and must come back byte for byte.
const tricky = "it's; \"quoted\" \\ back-slashed, é, 東京"

// target describes a test database for the package.
func target(t *testing.T, rawURL string, db *sql.DB) Database {
	t.Helper()
	u, err := dburl.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := dialect.ByName(u.Dialect)
	tg := Database{Dialect: d, DB: db, Name: u.Database, Host: u.Host, Port: u.Port, User: u.User, Password: u.Password()}
	if d == dialect.Postgres {
		tg.Params = map[string]string{"sslmode": "disable"}
	}
	return tg
}

func execAll(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// contentsOf returns what Contents lists, without PostgreSQL's schema prefix.
func contentsOf(t *testing.T, tg Database) []string {
	t.Helper()
	got, err := Contents(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range got {
		got[i] = strings.TrimPrefix(name, "public.")
	}
	return got
}

// TestCreateRestore takes a backup of a database in use on every dialect, changes the
// database, restores the backup, and checks that the content is back exactly: rows, a view,
// and no trace of the table created after the backup. It then restores the same backup into
// a fresh database.
func TestCreateRestore(t *testing.T) {
	ctx := context.Background()
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tdb := testdb.New(t, name)
			execAll(t, tdb.DB,
				"CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100))",
				"INSERT INTO items (id, name) VALUES (1, 'plain')",
				"CREATE VIEW item_names AS SELECT name FROM items",
			)
			if _, err := tdb.DB.Exec("INSERT INTO items (id, name) VALUES (2, "+tdb.Dialect.Param(1)+")", tricky); err != nil {
				t.Fatal(err)
			}
			tg := target(t, tdb.URL, tdb.DB)
			want := []string{"item_names", "items"}
			if got := contentsOf(t, tg); !slices.Equal(got, want) {
				t.Fatalf("Contents = %v, want %v", got, want)
			}

			dir := t.TempDir()
			path := filepath.Join(dir, "b"+Extension)
			before := time.Now().UTC().Truncate(time.Second)
			man, err := Create(ctx, tg, path, Info{RepositoryID: "repo", Version: 7, RatchetVersion: "test"})
			if err != nil {
				t.Fatal(err)
			}
			if man.Dialect != name || man.Database != tdb.Name || man.RepositoryID != "repo" || man.Version != 7 ||
				man.RatchetVersion != "test" || man.Tool == "" || man.Size == 0 || man.CreatedAt.Before(before) {
				t.Errorf("manifest %+v", man)
			}
			assertOnlyFile(t, dir, path)
			if got, err := Verify(path); err != nil || *got != *man {
				t.Fatalf("Verify = %+v, %v; want %+v", got, err, man)
			}

			execAll(t, tdb.DB, "INSERT INTO items (id, name) VALUES (3, 'after')", "CREATE TABLE extra (id INTEGER)", "DROP VIEW item_names")
			if tdb.Dialect == dialect.SQLite {
				tdb.DB.Close() // the file is replaced: connections must not stay on the old one
				tg.DB = nil
			}
			if _, err := Restore(ctx, tg, path, "repo"); err != nil {
				t.Fatal(err)
			}
			db := testdb.Open(t, tdb.URL)
			tg.DB = db
			if got := contentsOf(t, tg); !slices.Equal(got, want) {
				t.Errorf("after restore, Contents = %v, want %v", got, want)
			}
			assertItems(t, db)

			// A fresh, different database.
			fresh := testdb.New(t, name)
			ftg := target(t, fresh.URL, fresh.DB)
			if fresh.Dialect == dialect.SQLite {
				fresh.DB.Close()
				ftg.DB = nil
			}
			if _, err := Restore(ctx, ftg, path, "repo"); err != nil {
				t.Fatal(err)
			}
			assertItems(t, testdb.Open(t, fresh.URL))
		})
	}
}

// assertItems checks the rows of the backed up items table.
func assertItems(t *testing.T, db *sql.DB) {
	t.Helper()
	rows, err := db.Query("SELECT name FROM items ORDER BY id")
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
	if want := []string{"plain", tricky}; !slices.Equal(names, want) {
		t.Errorf("items = %q, want %q", names, want)
	}
}

// assertOnlyFile fails unless dir holds exactly the file path, with mode 0600: no temporary
// file is left.
func assertOnlyFile(t *testing.T, dir, path string) {
	t.Helper()
	assertOnlyEntries(t, dir, filepath.Base(path))
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("%s: mode %v, %v; want 0600", path, info.Mode(), err)
	}
}

// TestRestoreRefusals checks that a backup of another repository or dialect, or a damaged
// one, changes nothing.
func TestRestoreRefusals(t *testing.T) {
	ctx := context.Background()
	tdb := testdb.New(t, "sqlite")
	execAll(t, tdb.DB, "CREATE TABLE items (id INTEGER)")
	tg := target(t, tdb.URL, tdb.DB)
	dir := t.TempDir()
	path := filepath.Join(dir, "b"+Extension)
	if _, err := Create(ctx, tg, path, Info{RepositoryID: "repo"}); err != nil {
		t.Fatal(err)
	}
	execAll(t, tdb.DB, "CREATE TABLE later (id INTEGER)")

	if _, err := Restore(ctx, tg, path, "other"); !errors.Is(err, ErrMismatch) {
		t.Errorf("other repository: err = %v, want ErrMismatch", err)
	}
	pg := Database{Dialect: dialect.Postgres, Name: "glance"}
	if _, err := Restore(ctx, pg, path, "repo"); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "backup of a sqlite database") {
		t.Errorf("other dialect: err = %v, want ErrMismatch", err)
	}
	memory := Database{Dialect: dialect.SQLite, Name: ":memory:"}
	if _, err := Restore(ctx, memory, path, "repo"); err == nil || !strings.Contains(err.Error(), "in-memory") {
		t.Errorf("in-memory target: err = %v, want a refusal", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut"+Extension)
	if err := os.WriteFile(cut, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(ctx, tg, cut, "repo"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated: err = %v, want ErrCorrupt", err)
	}
	if got := contentsOf(t, tg); !slices.Equal(got, []string{"items", "later"}) {
		t.Errorf("after refused restores, Contents = %v; the database changed", got)
	}
}

// TestCreateNeverReplaces checks that an existing file is left alone.
func TestCreateNeverReplaces(t *testing.T) {
	tdb := testdb.New(t, "sqlite")
	execAll(t, tdb.DB, "CREATE TABLE items (id INTEGER)")
	path := filepath.Join(t.TempDir(), "existing")
	if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Create(context.Background(), target(t, tdb.URL, tdb.DB), path, Info{RepositoryID: "repo"})
	if !errors.Is(err, os.ErrExist) {
		t.Fatalf("err = %v, want ErrExist", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "keep me" {
		t.Fatalf("existing file now holds %q", data)
	}
	assertOnlyEntries(t, filepath.Dir(path), "existing")
}

// TestRestoreSQLiteInUse refuses to replace a database whose write-ahead log holds changes.
func TestRestoreSQLiteInUse(t *testing.T) {
	ctx := context.Background()
	tdb := testdb.New(t, "sqlite")
	execAll(t, tdb.DB, "CREATE TABLE items (id INTEGER)")
	tg := target(t, tdb.URL, tdb.DB)
	path := filepath.Join(t.TempDir(), "b"+Extension)
	if _, err := Create(ctx, tg, path, Info{RepositoryID: "repo"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tdb.Name+"-wal", []byte("pending frames"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Restore(ctx, tg, path, "repo")
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), tdb.Name+"-wal") {
		t.Fatalf("err = %v, want ErrInUse naming the -wal file", err)
	}
}

// TestRestoreKeepsFileMode gives the restored SQLite file the permissions of the one it
// replaces.
func TestRestoreKeepsFileMode(t *testing.T) {
	ctx := context.Background()
	tdb := testdb.New(t, "sqlite")
	execAll(t, tdb.DB, "CREATE TABLE items (id INTEGER)")
	tg := target(t, tdb.URL, tdb.DB)
	path := filepath.Join(t.TempDir(), "b"+Extension)
	if _, err := Create(ctx, tg, path, Info{RepositoryID: "repo"}); err != nil {
		t.Fatal(err)
	}
	tdb.DB.Close()
	if err := os.Chmod(tdb.Name, 0o640); err != nil {
		t.Fatal(err)
	}
	tg.DB = nil
	if _, err := Restore(ctx, tg, path, "repo"); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(tdb.Name); err != nil || info.Mode().Perm() != 0o640 {
		t.Fatalf("restored file mode %v, %v; want 0640", info.Mode(), err)
	}
	assertOnlyEntries(t, filepath.Dir(tdb.Name), filepath.Base(tdb.Name))
}

// assertOnlyEntries fails unless dir holds exactly the named entries.
func assertOnlyEntries(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, want) {
		t.Fatalf("%s holds %v, want %v", dir, names, want)
	}
}

// TestRestoreSQLiteStaleJournal replaces a database beside a PERSIST journal that its last
// commit zeroed (not hot: what a run killed between two versions leaves), and removes that
// journal; a hot journal (its header's magic number in place) is still refused.
func TestRestoreSQLiteStaleJournal(t *testing.T) {
	ctx := context.Background()
	tdb := testdb.New(t, "sqlite")
	execAll(t, tdb.DB, "CREATE TABLE items (id INTEGER)")
	tg := target(t, tdb.URL, tdb.DB)
	path := filepath.Join(t.TempDir(), "b"+Extension)
	if _, err := Create(ctx, tg, path, Info{RepositoryID: "repo"}); err != nil {
		t.Fatal(err)
	}
	tdb.DB.Close()
	tg.DB = nil
	hot := append([]byte{0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7}, make([]byte, 504)...)
	if err := os.WriteFile(tdb.Name+"-journal", hot, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(ctx, tg, path, "repo"); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "-journal") {
		t.Fatalf("with a hot journal: err = %v, want ErrInUse naming the -journal file", err)
	}
	if err := os.WriteFile(tdb.Name+"-journal", make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckRestore(tg); err != nil {
		t.Fatalf("CheckRestore with a zeroed journal: %v", err)
	}
	if _, err := Restore(ctx, tg, path, "repo"); err != nil {
		t.Fatalf("with a zeroed journal: %v", err)
	}
	assertOnlyEntries(t, filepath.Dir(tdb.Name), filepath.Base(tdb.Name))
}

// TestCreateInConcurrent takes backups of one database at the same version and time into
// one directory at once: all succeed, under distinct names, each a complete backup.
func TestCreateInConcurrent(t *testing.T) {
	ctx := context.Background()
	tdb := testdb.New(t, "sqlite")
	execAll(t, tdb.DB, "CREATE TABLE items (id INTEGER)")
	tg := target(t, tdb.URL, tdb.DB)
	dir := t.TempDir()
	at := time.Date(2025, 3, 1, 10, 15, 0, 0, time.UTC)
	const n = 6
	paths := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			paths[i], _, errs[i] = CreateIn(ctx, tg, dir, Info{RepositoryID: "repo", Version: 4, CreatedAt: at})
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("backup %d: %v", i, errs[i])
		}
		if seen[paths[i]] {
			t.Fatalf("two backups were written to %s", paths[i])
		}
		seen[paths[i]] = true
		if _, err := Verify(paths[i]); err != nil {
			t.Errorf("backup %d: %v", i, err)
		}
	}
	want := []string{"test-v4-20250301T101500Z.ratchet-backup"}
	for i := 2; i <= n; i++ {
		want = append(want, fmt.Sprintf("test-v4-20250301T101500Z-%d.ratchet-backup", i))
	}
	slices.Sort(want)
	assertOnlyEntries(t, dir, want...)
}
