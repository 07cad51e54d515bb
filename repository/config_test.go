package repository

import (
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	const text = "\uFEFF# comment\r\n" +
		"; another comment\r\n" +
		"[DEFAULT]\n" +
		"base = /srv\n" +
		"[db_settings]\n" +
		"Repository_ID : Glance Migrations\n" +
		"version_table=glance_version   \n" +
		"  # indented comment\n" +
		"percent = 100%% sure\n" +
		"path = %(base)s/repo\n" +
		"inline = value # not a comment\n" +
		"multi = first\n" +
		"   second\n" +
		"\n" +
		"   third\n" +
		"\n" +
		"empty =\n" +
		"colon = a:b=c\n"
	c, err := parseConfig(text)
	if err != nil {
		t.Fatalf("parseConfig: %v", err)
	}
	for option, want := range map[string]string{
		"repository_id": "Glance Migrations",
		"REPOSITORY_ID": "Glance Migrations",
		"version_table": "glance_version",
		"percent":       "100% sure",
		"path":          "/srv/repo",
		"inline":        "value # not a comment",
		"multi":         "first\nsecond\n\nthird",
		"empty":         "",
		"colon":         "a:b=c",
		"base":          "/srv",
	} {
		got, ok, err := c.get("db_settings", option)
		if err != nil || !ok || got != want {
			t.Errorf("get(db_settings, %s) = %q, %v, %v; want %q", option, got, ok, err, want)
		}
	}
	if _, ok, _ := c.get("db_settings", "missing"); ok {
		t.Error("get(db_settings, missing) reported ok")
	}
	if c.hasSection("DEFAULT") || c.hasSection("DB_SETTINGS") || !c.hasSection("db_settings") {
		t.Error("hasSection: section names must be case-sensitive and DEFAULT is not a section")
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"repository_id = x\n", "migrate.cfg: line 1: \"repository_id = x\" is outside any section"},
		{"[db_settings]\nrepository_id\n", "migrate.cfg: line 2: \"repository_id\" is not a \"name = value\" line"},
		{"[db_settings]\n= x\n", "line 2: \"= x\" has no option name"},
		{"[db_settings]\na=1\n[db_settings]\n", "line 3: section [db_settings] appears twice"},
		{"[db_settings]\na=1\nA=2\n", "line 3: option a appears twice in section [db_settings]"},
	}
	for _, tt := range tests {
		_, err := parseConfig(tt.text)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseConfig(%q) error = %v, want it to contain %q", tt.text, err, tt.want)
		}
	}
}

func TestConfigInterpolationErrors(t *testing.T) {
	tests := []struct{ value, want string }{
		{"100%", "must be followed by % or (name)s"},
		{"%x", "must be followed by % or (name)s"},
		{"%(nope)s", "%(nope)s refers to an option that does not exist"},
		{"%(loop)s", "nested more than 10 deep"},
		{"%()s", "bad %(name)s reference"},
		{"%(a)", "bad %(name)s reference"},
	}
	for _, tt := range tests {
		c, err := parseConfig("[s]\nloop = %(loop)s\nv = " + tt.value + "\n")
		if err != nil {
			t.Fatalf("parseConfig: %v", err)
		}
		_, _, err = c.get("s", "v")
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "migrate.cfg: [s] v: ") {
			t.Errorf("get of %q: error = %v, want it to contain %q", tt.value, err, tt.want)
		}
	}
}

func TestParseBool(t *testing.T) {
	for s, want := range map[string]bool{"1": true, "yes": true, "True": true, "ON": true, "0": false, "no": false, "False": false, "off": false} {
		if got, err := parseBool(s); err != nil || got != want {
			t.Errorf("parseBool(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "maybe", "2", "t"} {
		if _, err := parseBool(s); err == nil {
			t.Errorf("parseBool(%q) succeeded", s)
		}
	}
}
