package repository

import (
	"slices"
	"strings"
	"testing"
)

func TestLint(t *testing.T) {
	r := mustLoad(t, testFS(minimalConfig, map[string]string{
		"versions/__init__.py":                      "", // written by Init, never reported
		"versions/__init__.pyc":                     "",
		"versions/12_typo_default_upgrade.sql":      "SELECT 1;",
		"versions/001_first.pyc":                    "",
		"versions/002_x_default_upgrade.sql":        "CREATE TABLE t (id INT);",
		"versions/002_x_default_downgrade.sql":      "DROP TABLE t;",
		"versions/003_x_default_upgrade.sql":        "-- nothing yet\n/* still\nnothing */ ;\n",
		"versions/003_x_default_up.sql":             "SELECT 1;",
		"versions/003_x_postgres_upgrade.sql":       "SELECT 1;",
		"versions/006_only.py":                      "def upgrade(e): pass",
		"versions/007_partly.py":                    "def upgrade(e): pass",
		"versions/007_partly_sqlite_upgrade.sql":    "SELECT 1;",
		"versions/008_shadowed.py":                  "def upgrade(e): pass",
		"versions/008_shadowed_default_upgrade.sql": "SELECT 1;",
		"versions/009_x_default_downgrade.sql":      "SELECT 1;",
		"versions/010_x_sqlite_upgrade.sql":         "SELECT 1;",
		"versions/011_x_default_expand.sql":         "SELECT 1;",
		"versions/012_x_default_upgrade.sql":        "SELECT 1;",
	}))
	if err := r.Register(GoMigration{Version: 12, Name: "hidden", Up: noop}); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(GoMigration{Version: 13, Name: "fine", Up: noop}); err != nil {
		t.Fatal(err)
	}
	want := []Finding{
		{"versions/001_first.pyc", SeverityInfo, "ignored: extension is not .sql or .py"},
		{"versions/12_typo_default_upgrade.sql", SeverityWarning, "ignored: version number has fewer than 3 digits (write 001, not 1)"},
		{"versions/__init__.pyc", SeverityInfo, "ignored: name does not start with a version number"},
		{"versions", SeverityInfo, "the first version is 2; a new database must be stamped at 1 first (db version_control 1)"},
		{"versions/002_x_default_downgrade.sql", SeverityInfo, "downgrade scripts are never run; to go back, restore a backup"},
		{"versions/003_x_default_up.sql", SeverityWarning, `operation "up" is not upgrade, expand, migrate, contract or downgrade; the script is never run`},
		{"versions/003_x_default_upgrade.sql", SeverityWarning, "contains no SQL statements"},
		{"versions/003_x_postgres_upgrade.sql", SeverityWarning, `database "postgres" is not default, sqlite, postgresql or mysql; the script is never run (did you mean postgresql?)`},
		{"versions", SeverityWarning, "versions 4 to 5 are missing; upgrading a database across them fails"},
		{"versions/006_only.py", SeverityError, "the only upgrade script of version 6 is Python; ratchet runs SQL scripts and registered Go migrations: write 006_only_default_upgrade.sql or register a Go migration for version 6"},
		{"versions/007_partly.py", SeverityWarning, "on postgresql, mysql, version 7 resolves to this Python script, which ratchet cannot run; add a default SQL upgrade script or register a Go migration"},
		{"versions/008_shadowed.py", SeverityInfo, "never run: every dialect has an SQL upgrade script or a Go migration for version 8"},
		{"versions/009_x_default_downgrade.sql", SeverityInfo, "downgrade scripts are never run; to go back, restore a backup"},
		{"versions/009_x_default_downgrade.sql", SeverityError, "version 9 has no upgrade script; upgrading a database across it fails"},
		{"versions/010_x_sqlite_upgrade.sql", SeverityWarning, "version 10 has no upgrade script for postgresql, mysql; upgrading those databases across it fails"},
		{"go:hidden", SeverityWarning, "never run: SQL upgrade scripts of version 12 take precedence for every dialect"},
	}
	got := r.Lint()
	if !slices.Equal(got, want) {
		t.Errorf("Lint() =\n%s\nwant\n%s", findings(got), findings(want))
	}
}

func TestLintClean(t *testing.T) {
	r := mustLoad(t, testFS(minimalConfig, map[string]string{
		"versions/001_x_default_upgrade.sql": "CREATE TABLE t (id INT);",
		"versions/002_x_sqlite_upgrade.sql":  "SELECT 1;",
		"versions/002_x.py":                  "def upgrade(e): pass",
	}))
	if err := r.Register(GoMigration{Version: 2, Name: "two", Up: noop}); err != nil {
		t.Fatal(err)
	}
	// The Python script of version 2 is hidden by SQL on sqlite and by Go
	// elsewhere; that is worth an info, nothing more.
	got := r.Lint()
	if len(got) != 1 || got[0].Severity != SeverityInfo || got[0].Path != "versions/002_x.py" {
		t.Errorf("Lint() = %s, want one info about versions/002_x.py", findings(got))
	}
}

func TestLintTimestampGaps(t *testing.T) {
	r := mustLoad(t, testFS("[db_settings]\nrepository_id=x\nuse_timestamp_numbering=true\n", map[string]string{
		"versions/20240101000000_a_default_upgrade.sql": "SELECT 1;",
		"versions/20240202000000_b_default_upgrade.sql": "SELECT 1;",
	}))
	if got := r.Lint(); len(got) != 0 {
		t.Errorf("Lint() with timestamp numbering = %s, want no findings", findings(got))
	}
}

func TestHasStatements(t *testing.T) {
	for text, want := range map[string]bool{
		"":                       false,
		" \n\t;\r\n":             false,
		"-- a\n-- b":             false,
		"/* a */ -- b\n;":        false,
		"/* unterminated":        false,
		"SELECT 1":               true,
		"-- a\nSELECT 1;":        true,
		"/* a */SELECT 1":        true,
		"/* a */ /* b */ x":      true,
		"-- only comment\n/**/x": true,
	} {
		if got := hasStatements(text); got != want {
			t.Errorf("hasStatements(%q) = %v, want %v", text, got, want)
		}
	}
}

// findings formats fs one per line.
func findings(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("\t" + f.String() + "\n")
	}
	return b.String()
}
