package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// writeFile writes a config file into a test directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustLoad(t *testing.T, paths ...string) *Settings {
	t.Helper()
	s, err := Load(paths...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// glanceAPIConf is an excerpt of a real glance-api.conf, oslo-config-generator style.
const glanceAPIConf = `[DEFAULT]

#
# From glance.api
#

# Show all image locations when returning an image. (boolean value)
#show_multiple_locations = false
bind_host = 0.0.0.0
enabled_backends = fast:rbd, cheap:file
workers = 4

[cors]
allowed_origin = https://dashboard.example.com
expose_headers = X-Image-Meta-Checksum,X-Auth-Token,
    X-Subject-Token,X-Service-Token,X-OpenStack-Request-ID

[database]
# The SQLAlchemy connection string to use to connect to the database. (string
# value)
# Deprecated group/name - [DEFAULT]/sql_connection
#connection = <None>
connection = mysql+pymysql://glance:s3cr%et@controller/glance?charset=utf8
max_retries = -1

[keystone_authtoken]
www_authenticate_uri = http://controller:5000
password = GLANCE_PASS

[paste_deploy]
flavor = keystone
`

func TestLoadGlanceAPIConf(t *testing.T) {
	path := writeFile(t, "glance-api.conf", glanceAPIConf)
	got := mustLoad(t, path)
	want := &Settings{
		Connection: "mysql+pymysql://glance:s3cr%et@controller/glance?charset=utf8",
		Sources:    map[string]string{"connection": path + ":23"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
}

func TestLoadRatchetSection(t *testing.T) {
	path := writeFile(t, "ratchet.conf", `[ratchet]
repository = migrations
backup_dir = /var/backups/glance
lock_timeout = 90
lock = lease
lease_duration = 45
`)
	got := mustLoad(t, path)
	want := &Settings{
		Repository:    "migrations",
		BackupDir:     "/var/backups/glance",
		LockTimeout:   90 * time.Second,
		Lock:          "lease",
		LeaseDuration: 45 * time.Second,
		Sources: map[string]string{
			"repository":     path + ":2",
			"backup_dir":     path + ":3",
			"lock_timeout":   path + ":4",
			"lock":           path + ":5",
			"lease_duration": path + ":6",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
}

func TestLoadNoFiles(t *testing.T) {
	got := mustLoad(t)
	if diff := cmp.Diff(&Settings{Sources: map[string]string{}}, got); diff != "" {
		t.Errorf("Load() (-want +got):\n%s", diff)
	}
}

// TestLoadLaterFileOverrides checks oslo.config's rule for repeated --config-file: a value
// in a later file wins, an empty one unsets, and what a later file does not set is kept.
func TestLoadLaterFileOverrides(t *testing.T) {
	first := writeFile(t, "glance-api.conf", `[database]
connection = sqlite:///first.db
[ratchet]
repository = first
backup_dir = /first
lock_timeout = 10
`)
	second := writeFile(t, "local.conf", `[database]
connection = postgresql://h/second

[ratchet]
backup_dir =
lock_timeout = 2m
`)
	got := mustLoad(t, first, second)
	want := &Settings{
		Connection:  "postgresql://h/second",
		Repository:  "first",
		LockTimeout: 2 * time.Minute,
		Sources: map[string]string{
			"connection":   second + ":2",
			"repository":   first + ":4",
			"lock_timeout": second + ":6",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load(first, second) (-want +got):\n%s", diff)
	}
	if got := mustLoad(t, second, first); got.Connection != "sqlite:///first.db" || got.Sources["connection"] != first+":2" {
		t.Errorf("Load(second, first): connection %q from %s, want the first file's", got.Connection, got.Sources["connection"])
	}
}

// TestLoadSyntax checks each rule of oslo.config's parser on the connection value.
func TestLoadSyntax(t *testing.T) {
	tests := []struct {
		name, content string
		want          string // the connection
		line          int    // where it is set; 0 when unset
	}{
		{"equals", "[database]\nconnection=sqlite:///x.db\n", "sqlite:///x.db", 2},
		{"colon", "[database]\nconnection: sqlite:///x.db\n", "sqlite:///x.db", 2},
		{"first separator wins", "[database]\nconnection = mysql://u:p=w@h/db\n", "mysql://u:p=w@h/db", 2},
		{"spaces trimmed", "[database]\nconnection   =   sqlite:///x.db   \t\n", "sqlite:///x.db", 2},
		{"double quotes", "[database]\nconnection = \"sqlite:///x.db\"\n", "sqlite:///x.db", 2},
		{"single quotes", "[database]\nconnection = 'sqlite:///x.db'\n", "sqlite:///x.db", 2},
		{"unmatched quotes kept", "[database]\nconnection = \"sqlite:///x.db'\n", "\"sqlite:///x.db'", 2},
		{"lone quote", "[database]\nconnection = \"\n", "", 0},
		{"no interpolation", "[database]\nconnection = mysql://u:%(pw)s$pw%%@h/db\n", "mysql://u:%(pw)s$pw%%@h/db", 2},
		{"inline # is part of the value", "[database]\nconnection = sqlite:///x.db # old\n", "sqlite:///x.db # old", 2},
		{"comments", "# [database]\n; connection = a\n[database]\n#connection = b\n;connection = c\nconnection = d.db\n", "d.db", 6},
		{"section case-insensitive", "[DataBase]\nconnection = x.db\n", "x.db", 2},
		{"key case-sensitive", "[database]\nConnection = x.db\n", "", 0},
		{"other section", "[DEFAULT]\nconnection = x.db\n[sql]\nconnection = y.db\n", "", 0},
		{"repeated key, last wins", "[database]\nconnection = a.db\nconnection = b.db\n", "b.db", 3},
		{"repeated section merges", "[database]\nconnection = a.db\n[other]\nx = 1\n[database]\nmax_retries = 3\n", "a.db", 2},
		{"continuation", "[database]\nconnection = a\n  b\n\tc\n\nx = 1\n", "a\nb\nc", 2},
		{"CRLF", "[database]\r\nconnection = x.db\r\n", "x.db", 2},
		{"CR", "[database]\rconnection = x.db\r", "x.db", 2},
		{"BOM", "\ufeff[database]\nconnection = x.db", "x.db", 2},
		{"blank lines with spaces", "[database]\n   \nconnection = x.db\n \t \n", "x.db", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "test.conf", tt.content)
			got := mustLoad(t, path)
			if got.Connection != tt.want {
				t.Errorf("connection = %q, want %q", got.Connection, tt.want)
			}
			wantSource := ""
			if tt.line > 0 {
				wantSource = path + ":" + strconv.Itoa(tt.line)
			}
			if got.Sources["connection"] != wantSource {
				t.Errorf("Sources[connection] = %q, want %q", got.Sources["connection"], wantSource)
			}
		})
	}
}

func TestLoadLockTimeout(t *testing.T) {
	tests := []struct {
		value string
		want  time.Duration
		err   string
	}{
		{"90", 90 * time.Second, ""},
		{"+5", 5 * time.Second, ""},
		{"007", 7 * time.Second, ""},
		{"90s", 90 * time.Second, ""},
		{"2m", 2 * time.Minute, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"1.5s", 1500 * time.Millisecond, ""},
		{"", 0, ""},
		{"0", 0, "must be positive"},
		{"-5", 0, "must be positive"},
		{"0s", 0, "must be positive"},
		{"-1m", 0, "must be positive"},
		{"-99999999999999999999", 0, "must be positive"},
		{"9223372037", 0, "too large"},
		{"99999999999999999999", 0, "too large"},
		{"1.5", 0, "want a whole number of seconds or a duration such as 90s or 2m"},
		{"ninety", 0, "want a whole number of seconds or a duration such as 90s or 2m"},
		{"90 s", 0, "want a whole number of seconds or a duration such as 90s or 2m"},
	}
	for _, tt := range tests {
		path := writeFile(t, "test.conf", "[ratchet]\n\nlock_timeout = "+tt.value+"\n")
		got, err := Load(path)
		if tt.err != "" {
			want := path + ":3: lock_timeout = \"" + tt.value + "\": " + tt.err
			if err == nil || err.Error() != want {
				t.Errorf("lock_timeout = %s: error %v, want %s", tt.value, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("lock_timeout = %s: %v", tt.value, err)
			continue
		}
		if got.LockTimeout != tt.want {
			t.Errorf("lock_timeout = %s: got %v, want %v", tt.value, got.LockTimeout, tt.want)
		}
	}
}

func TestLoadSyntaxErrors(t *testing.T) {
	tests := []struct {
		content string
		line    int
		reason  string
	}{
		{"[database\nconnection = x\n", 1, `section header lacks its closing ']': "[database"`},
		{"[database]\n[]\n", 2, `section header names no section: "[]"`},
		{"[database]\nconnection\n", 2, `want "key = value", a [section] header or a comment, got "connection"`},
		{"[database]\n\n= x.db\n", 3, `no key before the '=' or ':': "= x.db"`},
		{"# comment\nconnection = x.db\n[database]\n", 2, `"connection" comes before any [section] header`},
		{"  [database]\n", 1, `indented line continues no value: "  [database]"`},
		{"[database]\nx = 1\n\n  continued\n", 4, `indented line continues no value: "  continued"`},
		// An error in a section ratchet does not read still counts, as in oslo.config.
		{"[keystone_authtoken]\nauth_url localhost\n[database]\nconnection = x.db\n", 2,
			`want "key = value", a [section] header or a comment, got "auth_url localhost"`},
	}
	for _, tt := range tests {
		path := writeFile(t, "bad.conf", tt.content)
		_, err := Load(path)
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("Load(%q) error = %v, want an *Error", tt.content, err)
			continue
		}
		if want := (Error{File: path, Line: tt.line, Reason: tt.reason}); ce.File != want.File || ce.Line != want.Line || ce.Reason != want.Reason {
			t.Errorf("Load(%q) error\n got %v\nwant %v", tt.content, err, &want)
		}
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, "good.conf", "[database]\nconnection = x.db\n")
	missing := filepath.Join(dir, "missing.conf")

	_, err := Load(good, missing)
	if want := missing + ": cannot read config file: no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("missing file: error %v, want %s", err, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: errors.Is(%v, fs.ErrNotExist) = false", err)
	}

	_, err = Load(dir)
	if want := dir + ": cannot read config file: is a directory"; err == nil || err.Error() != want {
		t.Errorf("directory: error %v, want %s", err, want)
	}

	bad := writeFile(t, "bad.conf", "[database]\nlock_timeout = x\n[ratchet]\nlock_timeout = x\n")
	_, err = Load(good, bad)
	if want := bad + `:4: lock_timeout = "x": want a whole number of seconds or a duration such as 90s or 2m`; err == nil || err.Error() != want {
		t.Errorf("bad value in the second file: error %v, want %s", err, want)
	}
}

// FuzzLoad checks that Load never panics, that its errors name the file, and that every
// source it records points into the file.
func FuzzLoad(f *testing.F) {
	f.Add(glanceAPIConf)
	f.Add("[ratchet]\nlock_timeout = 90\nrepository: 'x'\n  y\n")
	f.Add("[database\n")
	f.Add("\ufeff[DATABASE]\r\nconnection = \"\r\n")
	f.Fuzz(func(t *testing.T, content string) {
		path := filepath.Join(t.TempDir(), "fuzz.conf")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Load(path)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || ce.File != path || ce.Line < 1 {
				t.Fatalf("error %#v does not name the file and line", err)
			}
			return
		}
		for key, src := range s.Sources {
			if !strings.HasPrefix(src, path+":") {
				t.Fatalf("Sources[%q] = %q, not in %s", key, src, path)
			}
		}
		if s.LockTimeout < 0 {
			t.Fatalf("negative lock timeout %v", s.LockTimeout)
		}
	})
}
