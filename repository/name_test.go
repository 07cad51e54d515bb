package repository

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseName(t *testing.T) {
	tests := []struct {
		name    string
		want    ScriptFile
		ignored string // substring of the reason; "" if not ignored
		err     string // substring of the error; "" if none
	}{
		{name: "003_add_tags_sqlite_upgrade.sql", want: ScriptFile{Path: "versions/003_add_tags_sqlite_upgrade.sql", Version: 3, Description: "add_tags", DBMS: "sqlite", Operation: "upgrade", Kind: SQL}},
		{name: "001_x_default_upgrade.sql", want: ScriptFile{Path: "versions/001_x_default_upgrade.sql", Version: 1, Description: "x", DBMS: "default", Operation: "upgrade", Kind: SQL}},
		{name: "003_sqlite_upgrade.sql", want: ScriptFile{Path: "versions/003_sqlite_upgrade.sql", Version: 3, DBMS: "sqlite", Operation: "upgrade", Kind: SQL}},
		{name: "0003_x_postgresql_expand.sql", want: ScriptFile{Path: "versions/0003_x_postgresql_expand.sql", Version: 3, Description: "x", DBMS: "postgresql", Operation: "expand", Kind: SQL}},
		{name: "042_a_b_c_mysql_downgrade.sql", want: ScriptFile{Path: "versions/042_a_b_c_mysql_downgrade.sql", Version: 42, Description: "a_b_c", DBMS: "mysql", Operation: "downgrade", Kind: SQL}},
		{name: "001_x_default_up.sql", want: ScriptFile{Path: "versions/001_x_default_up.sql", Version: 1, Description: "x", DBMS: "default", Operation: "up", Kind: SQL}},
		{name: "001x_sqlite_upgrade.sql", want: ScriptFile{Path: "versions/001x_sqlite_upgrade.sql", Version: 1, Description: "x", DBMS: "sqlite", Operation: "upgrade", Kind: SQL}},
		{name: "20240102030405_add_default_upgrade.sql", want: ScriptFile{Path: "versions/20240102030405_add_default_upgrade.sql", Version: 20240102030405, Description: "add", DBMS: "default", Operation: "upgrade", Kind: SQL}},
		{name: "001_first.py", want: ScriptFile{Path: "versions/001_first.py", Version: 1, Description: "first", Kind: Python}},
		{name: "012_Add_initial_tables.py", want: ScriptFile{Path: "versions/012_Add_initial_tables.py", Version: 12, Description: "Add_initial_tables", Kind: Python}},
		{name: "007.py", want: ScriptFile{Path: "versions/007.py", Version: 7, Kind: Python}},

		{name: "__init__.py", ignored: "does not start with a version number"},
		{name: "README", ignored: "does not start with a version number"},
		{name: ".001_x_default_upgrade.sql", ignored: "does not start with a version number"},
		{name: "12_x_default_upgrade.sql", ignored: "fewer than 3 digits"},
		{name: "1_x.py", ignored: "fewer than 3 digits"},
		{name: "001_x_default_upgrade.sql~", ignored: "extension"},
		{name: "001_first.pyc", ignored: "extension"},
		{name: "001_x_default_upgrade.SQL", ignored: "extension"},
		{name: "001_notes.txt", ignored: "extension"},
		{name: "001_x_default_upgradesql", ignored: "extension"},
		{name: "000_x.txt", ignored: "extension"},

		{name: "001_upgrade.sql", err: "versions/001_upgrade.sql: invalid SQL script name: expected ###_description_database_operation.sql"},
		{name: "001.sql", err: "expected ###_description_database_operation.sql"},
		{name: "000_x_default_upgrade.sql", err: "versions/000_x_default_upgrade.sql: version numbers start at 1"},
		{name: "000_x.py", err: "version numbers start at 1"},
		{name: "99999999999999999999999_x_default_upgrade.sql", err: "is too large"},
		{name: "1", err: "versions/1: repository in the old format"},
		{name: "", err: "not a file name"},
		{name: "a/001_x_default_upgrade.sql", err: "not a file name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ignored, err := ParseName(tt.name)
			switch {
			case tt.err != "":
				var re *Error
				if !errors.As(err, &re) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseName(%q) error = %v, want an *Error containing %q", tt.name, err, tt.err)
				}
				if ignored != "" {
					t.Errorf("ParseName(%q) ignored = %q together with an error", tt.name, ignored)
				}
			case tt.ignored != "":
				if err != nil || !strings.Contains(ignored, tt.ignored) {
					t.Fatalf("ParseName(%q) = ignored %q, error %v; want ignored containing %q", tt.name, ignored, err, tt.ignored)
				}
				if want := "versions/" + tt.name; got.Path != want {
					t.Errorf("ParseName(%q).Path = %q, want %q", tt.name, got.Path, want)
				}
			default:
				if err != nil || ignored != "" {
					t.Fatalf("ParseName(%q) = ignored %q, error %v; want a script", tt.name, ignored, err)
				}
				if got != tt.want {
					t.Errorf("ParseName(%q) = %+v, want %+v", tt.name, got, tt.want)
				}
			}
		})
	}
}

func FuzzParseName(f *testing.F) {
	for _, s := range []string{
		"003_add_tags_sqlite_upgrade.sql", "003_sqlite_upgrade.sql", "0003_x.py", "12_x.sql",
		"001_upgrade.sql", "000_x_default_upgrade.sql", "1", "__init__.py", "001__x__default_.sql",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got, ignored, err := ParseName(name)
		if err != nil || ignored != "" {
			if err != nil && ignored != "" {
				t.Fatalf("ParseName(%q) returned both ignored %q and error %v", name, ignored, err)
			}
			return
		}
		if got.Version < 1 {
			t.Fatalf("ParseName(%q).Version = %d, want >= 1", name, got.Version)
		}
		// The leading digits of the name are the version number.
		if n := leadingDigits(name); fmt.Sprint(got.Version) != strings.TrimLeft(name[:n], "0") {
			t.Fatalf("ParseName(%q).Version = %d, but the name starts with %q", name, got.Version, name[:n])
		}
		// A name rebuilt from the parts parses to the same parts.
		rebuilt := fmt.Sprintf("%03d_%s.py", got.Version, got.Description)
		if got.Kind == SQL {
			rebuilt = fmt.Sprintf("%03d_%s_%s_%s.sql", got.Version, got.Description, got.DBMS, got.Operation)
		}
		again, ignored, err := ParseName(rebuilt)
		if err != nil || ignored != "" {
			t.Fatalf("ParseName(%q) (rebuilt from %q) = ignored %q, error %v", rebuilt, name, ignored, err)
		}
		again.Path = got.Path
		if again != got {
			t.Fatalf("ParseName(%q) = %+v, but the rebuilt %q gives %+v", name, got, rebuilt, again)
		}
	})
}
