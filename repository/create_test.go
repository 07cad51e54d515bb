package repository

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestInitNewScript(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "migrations")
	if err := Init(dir, "Glance 100% Migrations"); err != nil {
		t.Fatalf("Init: %v", err)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "migrate.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"[db_settings]\n",
		"\nrepository_id=Glance 100%% Migrations\n",
		"\nversion_table=migrate_version\n",
		"\nrequired_dbs=[]\n",
		"\nuse_timestamp_numbering=False\n",
	} {
		if !strings.Contains(string(cfg), line) {
			t.Errorf("migrate.cfg lacks %q:\n%s", line, cfg)
		}
	}
	for _, name := range []string{"README", "versions/__init__.py"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("Init did not create %s: %v", name, err)
		}
	}

	r, err := Open(dir)
	if err != nil {
		t.Fatalf("Open after Init: %v", err)
	}
	if r.ID() != "Glance 100% Migrations" || r.VersionTable() != "migrate_version" || r.Latest() != 0 || r.UseTimestampNumbering() {
		t.Errorf("new repository: ID %q, VersionTable %q, Latest %d, timestamps %v",
			r.ID(), r.VersionTable(), r.Latest(), r.UseTimestampNumbering())
	}
	if got := r.Lint(); len(got) != 0 {
		t.Errorf("Lint() of a new repository = %s, want no findings (not even about the __init__.py Init writes)", findings(got))
	}

	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	steps := []struct{ description, dbms, want string }{
		{"Add image tags", "", "001_Add_image_tags_default_upgrade.sql"},
		{`it's "v2.0"  now`, "sqlite", "002_it_s_v2_0_now_sqlite_upgrade.sql"},
		{"Postgres only", "postgresql", "003_Postgres_only_postgresql_upgrade.sql"},
		{" __trim. ", "mysql", "004_trim_mysql_upgrade.sql"},
	}
	for i, st := range steps {
		p, err := NewScript(dir, st.description, st.dbms, now)
		if err != nil {
			t.Fatalf("NewScript(%q, %q): %v", st.description, st.dbms, err)
		}
		if want := filepath.Join(dir, "versions", st.want); p != want {
			t.Errorf("NewScript(%q, %q) = %s, want %s", st.description, st.dbms, p, want)
		}
		r, err := Open(dir)
		if err != nil {
			t.Fatalf("Open after NewScript: %v", err)
		}
		if r.Latest() != i+1 {
			t.Errorf("Latest() after %d scripts = %d", i+1, r.Latest())
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "versions", steps[0].want))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), "-- Version 1, default upgrade: Add image tags\n"+templateHint+"\n"; got != want {
		t.Errorf("new script content = %q, want %q", got, want)
	}
	r, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := lookup(t, r, 2, "sqlite", OpUpgrade)
	if !ok || s.Path != "versions/"+steps[1].want || s.SQL != "-- Version 2, sqlite upgrade: it's \"v2.0\" now\n"+templateHint+"\n" || !s.IsTemplate() {
		t.Errorf("Script(2, sqlite) = %+v, %v", s, ok)
	}
	// A fresh script is still the template, and lint says so.
	if f := r.Lint(); !strings.Contains(findings(f), "versions/"+steps[0].want+": warning: still the template repo new wrote: db sync refuses it until its SQL is written") {
		t.Errorf("Lint() = %s, want a warning about the untouched new script", findings(f))
	}
}

func TestInitErrors(t *testing.T) {
	base := t.TempDir()
	full := filepath.Join(base, "full")
	if err := os.MkdirAll(full, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(base, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Init(empty, "ok"); err != nil {
		t.Errorf("Init into an empty directory: %v", err)
	}
	tests := []struct{ dir, id, want string }{
		{full, "x", "the directory is not empty"},
		{filepath.Join(full, "x"), "x", "not a directory"},
		{filepath.Join(base, "a"), "", "the repository id is empty"},
		{filepath.Join(base, "b"), " x", "starts or ends with white space"},
		{filepath.Join(base, "c"), "a\nb", "contains a control character"},
		{filepath.Join(base, "d"), strings.Repeat("x", 251), "longer than 250 characters"},
	}
	for _, tt := range tests {
		err := Init(tt.dir, tt.id)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.dir) {
			t.Errorf("Init(%s, %q) error = %v, want it to name the directory and contain %q", tt.dir, tt.id, err, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "a")); !os.IsNotExist(err) {
		t.Error("Init with a bad id created the directory")
	}
}

func TestNewScriptTimestamp(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "versions"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := "[db_settings]\nrepository_id=ts\nuse_timestamp_numbering=True\n"
	if err := os.WriteFile(filepath.Join(dir, "migrate.cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("CEST", 2*3600))
	p, err := NewScript(dir, "add tags", "", now)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "versions", "20240506050809_add_tags_default_upgrade.sql"); p != want {
		t.Errorf("NewScript = %s, want %s (UTC timestamp)", p, want)
	}
	if _, err := NewScript(dir, "again", "", now); err == nil || !strings.Contains(err.Error(), "timestamp version 20240506050809 is not above the latest version 20240506050809") {
		t.Errorf("NewScript at the same second: error = %v", err)
	}
	p, err = NewScript(dir, "later", "", now.Add(time.Second))
	if err != nil || filepath.Base(p) != "20240506050810_later_default_upgrade.sql" {
		t.Errorf("NewScript a second later = %s, %v", p, err)
	}
}

func TestNewScriptErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	if err := Init(dir, "x"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tests := []struct{ dir, description, dbms, want string }{
		{dir, "x", "postgres", `database "postgres" is not default, sqlite, postgresql or mysql`},
		{dir, "x", "oracle", `database "oracle" is not`},
		{dir, "a/b", "", `'/' cannot be part of a file name`},
		{dir, `a\b`, "", `'\\' cannot be part of a file name`},
		{dir, "a\x00b", "", `'\x00' cannot be part of a file name`},
		{dir, "", "", `the description "" is empty`},
		{dir, " . ", "sqlite", `the description " . " is empty`},
		{filepath.Join(dir, "missing"), "x", "", "repository directory does not exist"},
	}
	for _, tt := range tests {
		if _, err := NewScript(tt.dir, tt.description, tt.dbms, now); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewScript(%s, %q, %q) error = %v, want it to contain %q", tt.dir, tt.description, tt.dbms, err, tt.want)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, "versions"))
	if err != nil || len(entries) != 1 {
		t.Errorf("failed NewScript calls left files behind: %v, %v", entries, err)
	}
}

func TestIsTemplate(t *testing.T) {
	hint := templateHint + "\n"
	tests := []struct {
		name    string
		version int
		dbms    string
		sql     string
		want    bool
	}{
		{"as written", 7, "default", "-- Version 7, default upgrade: add tags\n" + hint, true},
		{"no description", 7, "sqlite", "-- Version 7, sqlite upgrade\n" + hint, true},
		{"CRLF", 7, "default", "-- Version 7, default upgrade: add tags\r\n" + templateHint + "\r\n", true},
		{"earlier releases' header alone", 7, "mysql", "-- Version 7, mysql upgrade: add tags\n", true},
		{"edited", 7, "default", "-- Version 7, default upgrade: add tags\n" + hint + "CREATE TABLE t (id INT);\n", false},
		{"hint removed, SQL added", 7, "default", "-- Version 7, default upgrade: add tags\nCREATE TABLE t (id INT);\n", false},
		{"empty legacy placeholder", 7, "default", "", false},
		{"blank line", 7, "default", "\n", false},
		{"another version's header", 8, "default", "-- Version 7, default upgrade: add tags\n" + hint, false},
		{"another database's header", 7, "sqlite", "-- Version 7, default upgrade: add tags\n" + hint, false},
		{"comment only, not ours", 7, "default", "-- TODO\n", false},
		{"no final newline", 7, "default", "-- Version 7, default upgrade: add tags\n" + templateHint, false},
	}
	for _, tt := range tests {
		s := &Script{Version: tt.version, DBMS: tt.dbms, Operation: OpUpgrade, Kind: SQL, SQL: tt.sql}
		if got := s.IsTemplate(); got != tt.want {
			t.Errorf("%s: IsTemplate(%q) = %v, want %v", tt.name, tt.sql, got, tt.want)
		}
	}
	down := &Script{Version: 7, DBMS: "default", Operation: OpDowngrade, Kind: SQL, SQL: "-- Version 7, default upgrade\n" + hint}
	if down.IsTemplate() {
		t.Error("a downgrade script is never a template")
	}
}
