package repository

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

func noop(context.Context, *sql.Tx) error { return nil }

func TestScriptPrecedence(t *testing.T) {
	r := mustLoad(t, testFS(minimalConfig, map[string]string{
		"versions/001_x_sqlite_upgrade.sql":  "sqlite 1",
		"versions/001_x_default_upgrade.sql": "default 1",
		"versions/001_x.py":                  "python 1",
		"versions/002_x_default_upgrade.sql": "default 2",
		"versions/002_x.py":                  "python 2",
		"versions/003_x_sqlite_upgrade.sql":  "sqlite 3",
		"versions/003_x.py":                  "python 3",
		"versions/004_x.py":                  "python 4",
	}))
	if err := r.Register(GoMigration{Version: 3, Name: "go_three", Up: noop}); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(GoMigration{Version: 2, Name: "go_two", Up: noop}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		version    int
		dbms       string
		kind       Kind
		path, text string
		scriptDBMS string
	}{
		{1, "sqlite", SQL, "versions/001_x_sqlite_upgrade.sql", "sqlite 1", "sqlite"},
		{1, "postgresql", SQL, "versions/001_x_default_upgrade.sql", "default 1", "default"},
		{2, "sqlite", SQL, "versions/002_x_default_upgrade.sql", "default 2", "default"}, // default SQL beats Go
		{3, "sqlite", SQL, "versions/003_x_sqlite_upgrade.sql", "sqlite 3", "sqlite"},
		{3, "mysql", Go, "go:go_three", "", ""}, // Go beats Python
		{4, "mysql", Python, "versions/004_x.py", "python 4", ""},
	}
	for _, tt := range tests {
		s, ok := lookup(t, r, tt.version, tt.dbms, OpUpgrade)
		if !ok {
			t.Errorf("Script(%d, %s, upgrade): ok = false", tt.version, tt.dbms)
			continue
		}
		if s.Kind != tt.kind || s.Path != tt.path || s.SQL != tt.text || s.DBMS != tt.scriptDBMS ||
			s.Version != tt.version || s.Operation != OpUpgrade {
			t.Errorf("Script(%d, %s, upgrade) = %+v; want kind %v, path %s, SQL %q, DBMS %q",
				tt.version, tt.dbms, s, tt.kind, tt.path, tt.text, tt.scriptDBMS)
		}
		if (s.Up != nil) != (tt.kind == Go) {
			t.Errorf("Script(%d, %s, upgrade).Up set = %v, want %v", tt.version, tt.dbms, s.Up != nil, tt.kind == Go)
		}
	}
}

func TestScriptNotFound(t *testing.T) {
	r := mustLoad(t, testFS(minimalConfig, map[string]string{
		"versions/001_x_default_downgrade.sql": "DROP TABLE t;",
		"versions/002_x_sqlite_upgrade.sql":    "SELECT 1;",
		"versions/003_x_default_upgrade.sql":   "SELECT 1;",
		"versions/004_x.py":                    "",
	}))
	if err := r.Register(GoMigration{Version: 5, Name: "five", Up: noop}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		version         int
		dbms, operation string
	}{
		{1, "sqlite", OpUpgrade},     // only a downgrade
		{2, "postgresql", OpUpgrade}, // only another dialect
		{3, "sqlite", "expand"},      // no script for the operation
		{4, "sqlite", "expand"},      // Python serves upgrade and downgrade only
		{5, "sqlite", OpDowngrade},   // Go serves upgrade only
		{6, "sqlite", OpUpgrade},     // no such version
		{0, "sqlite", OpUpgrade},
	}
	for _, tt := range tests {
		if s, ok := lookup(t, r, tt.version, tt.dbms, tt.operation); ok || s != nil {
			t.Errorf("Script(%d, %s, %s) = %+v, %v; want nil, false", tt.version, tt.dbms, tt.operation, s, ok)
		}
	}
	if s, ok := lookup(t, r, 1, "sqlite", OpDowngrade); !ok || s.Path != "versions/001_x_default_downgrade.sql" {
		t.Errorf("Script(1, sqlite, downgrade) = %+v, %v; want the downgrade script", s, ok)
	}
	if s, ok := lookup(t, r, 4, "sqlite", OpDowngrade); !ok || s.Kind != Python || s.Operation != OpDowngrade {
		t.Errorf("Script(4, sqlite, downgrade) = %+v, %v; want the Python script", s, ok)
	}
}

func TestScriptReturnsCopy(t *testing.T) {
	r := mustLoad(t, testFS(minimalConfig, map[string]string{"versions/001_x_default_upgrade.sql": "SELECT 1;"}))
	s, _ := lookup(t, r, 1, "sqlite", OpUpgrade)
	s.SQL = "changed"
	if again, _ := lookup(t, r, 1, "sqlite", OpUpgrade); again.SQL != "SELECT 1;" {
		t.Errorf("changing a returned Script changed the repository: SQL = %q", again.SQL)
	}
}

func TestRegister(t *testing.T) {
	r := mustLoad(t, testFS(minimalConfig, map[string]string{"versions/002_x_default_upgrade.sql": "SELECT 1;"}))
	for _, m := range []GoMigration{
		{Version: 7, Name: "seven", Up: noop},
		{Version: 1, Name: "one", Up: noop},
		{Version: 2, Name: "two", Up: noop},
	} {
		if err := r.Register(m); err != nil {
			t.Fatalf("Register(%d): %v", m.Version, err)
		}
	}
	if got := r.Versions(); !slices.Equal(got, []int{1, 2, 7}) {
		t.Errorf("Versions() = %v, want [1 2 7]", got)
	}
	if r.Latest() != 7 || !r.Has(7) || r.Has(3) {
		t.Errorf("Latest() = %d, Has(7) = %v, Has(3) = %v; want 7, true, false", r.Latest(), r.Has(7), r.Has(3))
	}
	if got := r.Files(7); len(got) != 0 {
		t.Errorf("Files(7) = %v, want none for a Go migration", got)
	}

	bad := []struct {
		m    GoMigration
		want string
	}{
		{GoMigration{Version: 0, Name: "zero", Up: noop}, `register Go migration "zero" for version 0: version 0 is not a version number`},
		{GoMigration{Version: -1, Name: "neg", Up: noop}, "version -1 is not a version number"},
		{GoMigration{Version: 8, Up: noop}, "Name is empty"},
		{GoMigration{Version: 8, Name: "nil"}, "Up is nil"},
		{GoMigration{Version: 7, Name: "again", Up: noop}, `the version already has Go migration "seven"`},
	}
	for _, tt := range bad {
		err := r.Register(tt.m)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Register(%+v) error = %v, want it to contain %q", tt.m, err, tt.want)
		}
	}
	if r.Has(8) || r.Latest() != 7 {
		t.Error("a rejected Register changed the repository")
	}
}

func TestConcurrentUse(t *testing.T) {
	r := mustLoad(t, testFS(minimalConfig, map[string]string{"versions/001_x_default_upgrade.sql": "SELECT 1;"}))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if err := r.Register(GoMigration{Version: 10 + i, Name: "m", Up: noop}); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			r.Versions()
			r.Latest()
			lookup(t, r, 1, "sqlite", OpUpgrade)
			r.Lint()
		})
	}
	wg.Wait()
	if got := len(r.Versions()); got != 9 {
		t.Errorf("len(Versions()) = %d, want 9", got)
	}
}

func TestChecksum(t *testing.T) {
	lf := &Script{Kind: SQL, SQL: "CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);\n"}
	crlf := &Script{Kind: SQL, SQL: "CREATE TABLE t (id INT);\r\nINSERT INTO t VALUES (1);\r\n"}
	cr := &Script{Kind: SQL, SQL: "CREATE TABLE t (id INT);\rINSERT INTO t VALUES (1);\r"}
	other := &Script{Kind: SQL, SQL: "CREATE TABLE t (id INT);\nINSERT INTO t VALUES (2);\n"}

	// sha256 of the LF text, computed independently with sha256sum.
	const want = "sha256:658d79b02021172ce2614c9d26b098e064c690a7d219832fe29ffa7aef569005"
	got := lf.Checksum()
	if got != want {
		t.Fatalf("Checksum() = %q, want %q", got, want)
	}
	if crlf.Checksum() != got || cr.Checksum() != got {
		t.Errorf("CRLF/CR checksums %q, %q differ from LF %q", crlf.Checksum(), cr.Checksum(), got)
	}
	if other.Checksum() == got {
		t.Error("different SQL has the same checksum")
	}
	if empty := (&Script{Kind: SQL}).Checksum(); empty != "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("checksum of empty SQL = %q", empty)
	}

	r := mustLoad(t, testFS(minimalConfig, nil))
	if err := r.Register(GoMigration{Version: 1, Name: "backfill_image_tags", Up: noop}); err != nil {
		t.Fatal(err)
	}
	s, _ := lookup(t, r, 1, "sqlite", OpUpgrade)
	if got := s.Checksum(); got != "go:backfill_image_tags" {
		t.Errorf("Go checksum = %q, want go:backfill_image_tags", got)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{SQL: "sql", Go: "go", Python: "python", 0: "Kind(0)", 9: "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}

// lookup calls r.Script and fails the test if the script cannot be read.
func lookup(t testing.TB, r *Repository, version int, dbms, operation string) (*Script, bool) {
	t.Helper()
	s, ok, err := r.Script(version, dbms, operation)
	if err != nil {
		t.Fatal(err)
	}
	return s, ok
}

// failingFS fails to read one file, as an unreadable file on disk would.
type failingFS struct {
	fstest.MapFS
	bad string
}

func (f failingFS) Open(name string) (fs.File, error) {
	if name == f.bad {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f.MapFS.Open(name)
}

func (f failingFS) ReadFile(name string) ([]byte, error) {
	if name == f.bad {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f.MapFS.ReadFile(name)
}

func TestScriptReadsContentOnFirstUse(t *testing.T) {
	fsys := failingFS{MapFS: fstest.MapFS{
		"migrate.cfg":                        {Data: []byte("[db_settings]\nrepository_id=r\n")},
		"versions/001_a_default_upgrade.sql": {Data: []byte("SELECT 1;")},
		"versions/002_b_default_upgrade.sql": {Data: []byte("SELECT 2;")},
	}, bad: "versions/002_b_default_upgrade.sql"}
	r, err := Load(fsys)
	if err != nil {
		t.Fatalf("Load read the scripts eagerly: %v", err)
	}
	if s, ok := lookup(t, r, 1, "sqlite", OpUpgrade); !ok || s.SQL != "SELECT 1;" {
		t.Errorf("Script(1) = %+v, %v", s, ok)
	}
	_, _, err = r.Script(2, "sqlite", OpUpgrade)
	var re *Error
	if !errors.As(err, &re) || re.Path != "versions/002_b_default_upgrade.sql" || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("Script(2) error = %v, want one naming the unreadable file", err)
	}
	if f := r.Lint(); len(f) == 0 || f[0].Severity != SeverityError || f[0].Path != "versions/002_b_default_upgrade.sql" {
		t.Errorf("Lint = %v, want an error finding for the unreadable file", f)
	}
}
