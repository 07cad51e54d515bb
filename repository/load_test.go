package repository

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

const minimalConfig = "[db_settings]\nrepository_id=test\n"

// testFS returns a repository with migrate.cfg cfg (none if cfg is "") and
// the given files, keyed by path.
func testFS(cfg string, files map[string]string) fstest.MapFS {
	m := fstest.MapFS{versionsDir: {Mode: fs.ModeDir | 0o755}}
	if cfg != "" {
		m[configFile] = &fstest.MapFile{Data: []byte(cfg)}
	}
	for name, text := range files {
		m[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return m
}

// mustLoad loads fsys and fails the test on error.
func mustLoad(t *testing.T, fsys fs.FS) *Repository {
	t.Helper()
	r, err := Load(fsys)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return r
}

func TestLoad(t *testing.T) {
	r := mustLoad(t, testFS(minimalConfig, map[string]string{
		"versions/__init__.py":                      "",
		"versions/README":                           "notes",
		"versions/001_create_default_upgrade.sql":   "CREATE TABLE t (id INT);",
		"versions/001_create_default_downgrade.sql": "DROP TABLE t;",
		"versions/001_create_sqlite_upgrade.sql":    "CREATE TABLE t (id INTEGER);",
		"versions/0003_more.py":                     "def upgrade(migrate_engine): pass",
		"versions/12_typo_default_upgrade.sql":      "SELECT 1;",
		"versions/002_x_default_upgrade.sql~":       "backup",
		"versions/__pycache__/x.pyc":                "",
	}))
	if r.ID() != "test" || r.VersionTable() != "migrate_version" || r.Path() != "" || r.UseTimestampNumbering() {
		t.Errorf("ID, VersionTable, Path, UseTimestampNumbering = %q, %q, %q, %v; want test, migrate_version, \"\", false",
			r.ID(), r.VersionTable(), r.Path(), r.UseTimestampNumbering())
	}
	if got := r.Latest(); got != 3 {
		t.Errorf("Latest() = %d, want 3", got)
	}
	if got := r.Versions(); !slices.Equal(got, []int{1, 3}) {
		t.Errorf("Versions() = %v, want [1 3]", got)
	}
	if !r.Has(1) || r.Has(2) || !r.Has(3) || r.Has(12) {
		t.Error("Has: want 1 and 3 only")
	}
	var names []string
	for _, f := range r.Files(1) {
		names = append(names, f.Path)
	}
	want := []string{
		"versions/001_create_default_downgrade.sql",
		"versions/001_create_default_upgrade.sql",
		"versions/001_create_sqlite_upgrade.sql",
	}
	if !slices.Equal(names, want) {
		t.Errorf("Files(1) = %v, want %v", names, want)
	}
	if got := r.Files(3); len(got) != 1 || got[0].Kind != Python || got[0].Version != 3 {
		t.Errorf("Files(3) = %+v, want the one Python script", got)
	}
	if got := r.Files(2); got != nil {
		t.Errorf("Files(2) = %+v, want nil", got)
	}
	wantIgnored := []Ignored{
		{"versions/002_x_default_upgrade.sql~", "extension is not .sql or .py"},
		{"versions/12_typo_default_upgrade.sql", "version number has fewer than 3 digits (write 001, not 1)"},
		{"versions/README", "name does not start with a version number"},
		{"versions/__init__.py", "name does not start with a version number"},
		{"versions/__pycache__", "directory"},
	}
	if got := r.Ignored(); !slices.Equal(got, wantIgnored) {
		t.Errorf("Ignored() = %v, want %v", got, wantIgnored)
	}
}

func TestLoadEmptyVersions(t *testing.T) {
	r := mustLoad(t, testFS(minimalConfig, nil))
	if r.Latest() != 0 || len(r.Versions()) != 0 || r.Has(0) {
		t.Errorf("empty repository: Latest %d, Versions %v, Has(0) %v; want 0, [], false", r.Latest(), r.Versions(), r.Has(0))
	}
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		cfg        string
		id, table  string
		timestamps bool
	}{
		{"[db_settings]\nrepository_id=Glance Migrations\nversion_table=migrate_version\nrequired_dbs=[]\n", "Glance Migrations", "migrate_version", false},
		{"[db_settings]\nrepository_id = 100%% ours\nversion_table: glance_version\n", "100% ours", "glance_version", false},
		{"[db_settings]\nREPOSITORY_ID=x\nuse_timestamp_numbering=True\n", "x", "migrate_version", true},
		{"[db_settings]\nrepository_id=x\nuse_timestamp_numbering = off\n", "x", "migrate_version", false},
		{"[DEFAULT]\nname=svc\n[db_settings]\nrepository_id=%(name)s_repo\n", "svc_repo", "migrate_version", false},
	}
	for _, tt := range tests {
		r := mustLoad(t, testFS(tt.cfg, nil))
		if r.ID() != tt.id || r.VersionTable() != tt.table || r.UseTimestampNumbering() != tt.timestamps {
			t.Errorf("migrate.cfg %q: ID, VersionTable, UseTimestampNumbering = %q, %q, %v; want %q, %q, %v",
				tt.cfg, r.ID(), r.VersionTable(), r.UseTimestampNumbering(), tt.id, tt.table, tt.timestamps)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name   string
		fsys   fstest.MapFS
		path   string // Error.Path
		reason string // substring of Error.Reason
	}{
		{"no migrate.cfg", testFS("", nil),
			"migrate.cfg", "missing; a repository is a directory holding migrate.cfg and versions/"},
		{"no versions", fstest.MapFS{"migrate.cfg": {Data: []byte(minimalConfig)}},
			"versions", "missing; a repository is a directory holding migrate.cfg and versions/"},
		{"versions is a file", fstest.MapFS{"migrate.cfg": {Data: []byte(minimalConfig)}, "versions": {Data: []byte("x")}},
			"versions", "is not a directory"},
		{"migrate.cfg is a directory", fstest.MapFS{"migrate.cfg/x": {}, "versions": {Mode: fs.ModeDir}},
			"migrate.cfg", "is a directory"},
		{"no db_settings", testFS("[settings]\nrepository_id=x\n", nil),
			"migrate.cfg", "no [db_settings] section; it must set repository_id"},
		{"no repository_id", testFS("[db_settings]\nversion_table=v\n", nil),
			"migrate.cfg", "[db_settings] has no repository_id"},
		{"empty repository_id", testFS("[db_settings]\nrepository_id=\n", nil),
			"migrate.cfg", "[db_settings] repository_id is empty"},
		{"long repository_id", testFS("[db_settings]\nrepository_id="+strings.Repeat("é", 251)+"\n", nil),
			"migrate.cfg", "longer than 250 characters"},
		{"empty version_table", testFS("[db_settings]\nrepository_id=x\nversion_table=\n", nil),
			"migrate.cfg", "[db_settings] version_table is empty"},
		{"bad boolean", testFS("[db_settings]\nrepository_id=x\nuse_timestamp_numbering=maybe\n", nil),
			"migrate.cfg", `[db_settings] use_timestamp_numbering: "maybe" is not a boolean`},
		{"bad interpolation", testFS("[db_settings]\nrepository_id=100%\n", nil),
			"migrate.cfg", "[db_settings] repository_id: "},
		{"syntax", testFS("[db_settings]\nrepository_id x\n", nil),
			"migrate.cfg", "line 2: "},
		{"old format file", testFS(minimalConfig, map[string]string{"versions/1": ""}),
			"versions/1", "old format"},
		{"old format directory", testFS(minimalConfig, map[string]string{"versions/1/001_x.py": ""}),
			"versions/1", "old format"},
		{"short SQL name", testFS(minimalConfig, map[string]string{"versions/001_upgrade.sql": ""}),
			"versions/001_upgrade.sql", "expected ###_description_database_operation.sql"},
		{"version zero", testFS(minimalConfig, map[string]string{"versions/000_x_default_upgrade.sql": ""}),
			"versions/000_x_default_upgrade.sql", "version numbers start at 1"},
		{"duplicate SQL", testFS(minimalConfig, map[string]string{
			"versions/003_a_sqlite_upgrade.sql":  "",
			"versions/0003_b_sqlite_upgrade.sql": "",
			"versions/003_c_default_upgrade.sql": "",
		}), "versions/0003_b_sqlite_upgrade.sql",
			"versions/0003_b_sqlite_upgrade.sql and versions/003_a_sqlite_upgrade.sql are both the sqlite upgrade script of version 3"},
		{"duplicate Python", testFS(minimalConfig, map[string]string{"versions/002_a.py": "", "versions/002_b.py": ""}),
			"versions/002_a.py", "version 2 has two Python scripts, versions/002_a.py and versions/002_b.py"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Load(tt.fsys)
			var re *Error
			if !errors.As(err, &re) {
				t.Fatalf("Load = %v, %v; want an *Error", r, err)
			}
			if re.Path != tt.path || !strings.Contains(re.Reason, tt.reason) {
				t.Errorf("Load error = %q; want path %q and a reason containing %q", err, tt.path, tt.reason)
			}
			if want := re.Path + ": " + re.Reason; err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.MkdirAll(filepath.Join("repo", "versions"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("repo", "migrate.cfg"), []byte(minimalConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("repo", "versions", "001_x_default_upgrade.sql"), []byte("SELECT 1;"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open("repo")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if r.Path() != "repo" || r.Latest() != 1 {
		t.Errorf("Path, Latest = %q, %d; want repo, 1", r.Path(), r.Latest())
	}
	if s, ok := lookup(t, r, 1, "sqlite", OpUpgrade); !ok || s.SQL != "SELECT 1;" {
		t.Errorf("Script(1) = %+v, %v; want the file's content", s, ok)
	}

	_, err = Open("does_not_exist")
	var re *Error
	if !errors.As(err, &re) || re.Path != "does_not_exist" || !strings.Contains(re.Reason, "does not exist; a repository is a directory holding migrate.cfg and versions/") {
		t.Errorf("Open(does_not_exist) error = %v", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(does_not_exist) error %v does not wrap fs.ErrNotExist", err)
	}

	_, err = Open(filepath.Join("repo", "migrate.cfg"))
	if !errors.As(err, &re) || !strings.Contains(re.Reason, "not a directory") {
		t.Errorf("Open(a file) error = %v, want an *Error saying it is not a directory", err)
	}

	if err := os.Remove(filepath.Join("repo", "migrate.cfg")); err != nil {
		t.Fatal(err)
	}
	_, err = Open("repo")
	if !errors.As(err, &re) || re.Path != "migrate.cfg" || !strings.Contains(re.Reason, "missing") {
		t.Errorf("Open(repo without migrate.cfg) error = %v", err)
	}
}
