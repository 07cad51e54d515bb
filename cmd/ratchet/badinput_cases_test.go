package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ratchetdb/ratchet/cli"
)

// Dialect sets for cases that apply to some dialects only.
var (
	onlySQLite   = []string{"sqlite"}
	onlyPostgres = []string{"postgresql"}
	onlyMySQL    = []string{"mysql"}
)

// std builds the args of a case that runs a command with the case's repository and
// database.
func std(args ...string) func(e *badEnv) []string {
	return func(e *badEnv) []string { return e.std(args...) }
}

// withURL builds the args of a case that gives its own database URL, made from the
// case's environment.
func withURL(url func(e *badEnv) string, args ...string) func(e *badEnv) []string {
	return func(e *badEnv) []string {
		return append([]string{"--repository", e.repo, "--database", url(e)}, args...)
	}
}

// param returns the case's database URL with a query parameter added.
func param(kv string) func(e *badEnv) string {
	return func(e *badEnv) string {
		if strings.Contains(e.url, "?") {
			return e.url + "&" + kv
		}
		return e.url + "?" + kv
	}
}

// fixed returns a constant URL.
func fixed(url string) func(e *badEnv) string { return func(*badEnv) string { return url } }

// script writes a version 2 script for every dialect (the base one is replaced).
func script(name, content string) func(t *testing.T, e *badEnv) {
	return func(t *testing.T, e *badEnv) {
		t.Helper()
		if err := os.Remove(filepath.Join(e.repo, "versions", "002_more_default_upgrade.sql")); err != nil {
			t.Fatal(err)
		}
		e.write(t, "repo/versions/"+name, content)
	}
}

// files writes files under the working directory ("repo/…" lands in the repository).
func files(kv ...string) func(t *testing.T, e *badEnv) {
	return func(t *testing.T, e *badEnv) {
		t.Helper()
		for i := 0; i+1 < len(kv); i += 2 {
			e.write(t, kv[i], kv[i+1])
		}
	}
}

// config writes conf.ini and returns args that read it (the repository given by flag).
func configArgs(args ...string) func(e *badEnv) []string {
	return func(e *badEnv) []string {
		return append([]string{"--repository", e.repo, "--config-file", filepath.Join(e.dir, "conf.ini")}, args...)
	}
}

// restoreArgs restores the backup file that file returns, with --yes.
func restoreArgs(file func(e *badEnv) string) func(e *badEnv) []string {
	return func(e *badEnv) []string { return e.std("db", "restore", file(e), "--yes") }
}

// backupCopy writes a copy of the dialect's genuine backup, changed by edit, to bad.backup.
func backupCopy(edit func(t *testing.T, data []byte) []byte) func(t *testing.T, e *badEnv) {
	return func(t *testing.T, e *badEnv) {
		t.Helper()
		data, err := os.ReadFile(e.backups[e.dialect])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(e.dir, "bad.backup"), edit(t, data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// badBackup is the path backupCopy writes.
func badBackup(e *badEnv) string { return filepath.Join(e.dir, "bad.backup") }

// editManifest changes the manifest of a backup archive, keeping the payload.
func editManifest(edit func(m map[string]any)) func(t *testing.T, data []byte) []byte {
	return func(t *testing.T, data []byte) []byte {
		t.Helper()
		tr := tar.NewReader(bytes.NewReader(data))
		var out bytes.Buffer
		tw := tar.NewWriter(&out)
		for {
			hdr, err := tr.Next()
			if err != nil {
				break
			}
			var content bytes.Buffer
			if _, err := content.ReadFrom(tr); err != nil {
				t.Fatal(err)
			}
			body := content.Bytes()
			if hdr.Name == "manifest.json" {
				var m map[string]any
				if err := json.Unmarshal(body, &m); err != nil {
					t.Fatal(err)
				}
				edit(m)
				if body, err = json.MarshalIndent(m, "", "  "); err != nil {
					t.Fatal(err)
				}
			}
			hdr.Size = int64(len(body))
			if err := tw.WriteHeader(hdr); err != nil {
				t.Fatal(err)
			}
			tw.Write(body)
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
}

// otherDialect returns a dialect whose backup does not fit e's.
func otherDialect(e *badEnv) string {
	switch e.dialect {
	case "sqlite":
		return "postgresql"
	case "postgresql":
		return "mysql"
	}
	return "sqlite"
}

// badInputCases returns the cases of the bad-input suite.
func badInputCases() []badInput {
	var cases []badInput
	add := func(c ...badInput) { cases = append(cases, c...) }

	// Arguments.
	add(
		badInput{name: "upgrade to a word", want: `^invalid version "abc": must be a non-negative integer$`, args: std("db", "upgrade", "abc")},
		badInput{name: "upgrade to a negative version", want: `^invalid version -1: version numbers cannot be negative$`, args: std("db", "upgrade", "-1")},
		badInput{name: "upgrade to a fraction", want: `^invalid version "1\.5"`, args: std("db", "upgrade", "1.5")},
		badInput{name: "upgrade to a huge number", want: `^invalid version "99999999999999999999"`, args: std("db", "upgrade", "99999999999999999999")},
		badInput{name: "upgrade to an empty version", want: `invalid version ""`, args: std("db", "upgrade", "")},
		badInput{name: "upgrade beyond the latest", want: `\b99\b.*\blatest\b.*\b2\b|\b2\b.*\b99\b`, args: std("db", "upgrade", "99")},
		badInput{name: "sync to a version below the current", want: `downgrade`, args: std("db", "sync", "0")},
		badInput{name: "upgrade to a version below the current", want: `downgrade`, args: std("db", "upgrade", "0")},
		badInput{name: "downgrade", want: `downgrade`, args: std("db", "downgrade", "0")},
		badInput{name: "downgrade without a version", want: `downgrade`, args: std("db", "downgrade")},
		badInput{name: "sync with a word as current version", want: `^invalid current version "abc"`, args: std("db", "sync", "2", "abc")},
		badInput{name: "version_control at a word", want: `^invalid version "abc"`, args: std("db", "version_control", "abc")},
		badInput{name: "version_control at a negative version", want: `version`, args: std("db", "version_control", "-3")},
		badInput{name: "upgrade with two versions", want: `takes at most 1 argument\(s\), got 2: 1 2`, args: std("db", "upgrade", "1", "2")},
		badInput{name: "sync with three arguments", want: `takes at most 2 argument\(s\), got 3`, args: std("db", "sync", "1", "2", "3")},
		badInput{name: "unknown db command", want: `unknown command or argument "frobnicate"`, args: std("db", "frobnicate")},
		badInput{name: "unknown top-level command", want: `unknown command or argument "dbx"|unknown command "dbx"`, args: std("dbx", "version")},
		badInput{name: "argument to db version", want: `unknown command or argument "extra"`, args: std("db", "version", "extra")},
		badInput{name: "argument to db status", want: `"extra"`, args: std("db", "status", "extra")},
		badInput{name: "argument to db check", want: `"extra"`, args: std("db", "check", "extra")},
		badInput{name: "unknown flag", want: `unknown flag: --bogus`, args: std("db", "sync", "--bogus")},
		badInput{name: "unknown output format", want: `^--output "xml": must be text or json$`, args: std("--output", "xml", "db", "version")},
		badInput{name: "lock timeout not a duration", want: `invalid argument "abc" for "--lock-timeout"`, args: std("--lock-timeout", "abc", "db", "sync")},
		badInput{name: "lock timeout zero", want: `--lock-timeout 0s: must be positive`, args: std("--lock-timeout", "0", "db", "sync")},
		badInput{name: "lock timeout negative", want: `--lock-timeout -5s: must be positive`, args: std("--lock-timeout", "-5s", "db", "sync")},
		badInput{name: "unknown lock method", want: `^--lock: unknown lock method "foo": must be advisory, lease or auto$`, args: std("--lock", "foo", "db", "sync")},
		badInput{name: "lease shorter than a second", want: `^--lease-duration 500ms: must be at least 1s$`, args: std("--lease-duration", "500ms", "db", "sync")},
		badInput{name: "lease not a duration", want: `invalid argument "long" for "--lease-duration"`, args: std("--lease-duration", "long", "db", "sync")},
		badInput{name: "empty --database", want: `^--database is empty$`, args: func(e *badEnv) []string {
			return []string{"--repository", e.repo, "--database", "", "db", "sync"}
		}},
		badInput{name: "empty --repository", want: `^--repository is empty$`, args: func(e *badEnv) []string {
			return []string{"--repository", " ", "--database", e.url, "db", "sync"}
		}},
		badInput{name: "backup with --out and --dir", want: `--out and --dir exclude each other`, args: std("db", "backup", "--out", "x", "--dir", "y")},
		badInput{name: "restore without a file", want: `takes 1 argument\(s\), got 0`, args: std("db", "restore")},
		badInput{name: "restore with two files", want: `takes 1 argument\(s\), got 2`, args: std("db", "restore", "a", "b")},
		badInput{name: "atomic sync on MySQL", dialects: onlyMySQL, want: `cannot apply the versions in one transaction`, args: std("db", "sync", "--atomic")},
	)

	// URLs.
	add(
		badInput{name: "sqlite URL without a file", dialects: onlySQLite, want: `^SQLite URL "sqlite:///" names no file`, args: withURL(fixed("sqlite:///"), "db", "sync")},
		badInput{name: "sqlite URL without a file, with a parameter", dialects: onlySQLite, want: `SQLite URL "sqlite:///\?mode=rwc" names no file`, args: withURL(fixed("sqlite:///?mode=rwc"), "db", "sync")},
		badInput{name: "sqlite URL naming a host", dialects: onlySQLite, want: `names a host`, args: withURL(fixed("sqlite://host/x.db"), "db", "sync")},
		badInput{name: "sqlite URL with an unknown mode", dialects: onlySQLite, want: `mode="wal" is not ro, rw or rwc`, args: withURL(param("mode=wal"), "db", "sync")},
		badInput{name: "sqlite URL with an unknown parameter", dialects: onlySQLite, want: `unknown parameter "cache"`, args: withURL(param("cache=shared"), "db", "sync")},
		badInput{name: "sqlite URL naming /dev/null", dialects: onlySQLite, want: `^sqlite:////dev/null: /dev/null is not a regular file \(a character device\)`, args: withURL(fixed("sqlite:////dev/null"), "db", "sync")},
		badInput{name: "sqlite URL naming a directory", dialects: onlySQLite, want: `is a directory, not an SQLite database file`, args: withURL(func(e *badEnv) string { return sqliteURL(e.repo) }, "db", "sync")},
		badInput{name: "sqlite URL in a missing directory", dialects: onlySQLite, want: `directory .*/nodir does not exist`, args: withURL(func(e *badEnv) string { return sqliteURL(filepath.Join(e.dir, "nodir", "x.db")) }, "db", "sync")},
		badInput{name: "sqlite URL naming a text file", dialects: onlySQLite, prep: files("notes.db", "just some notes\n"),
			want: `notes\.db is not an SQLite database \(no SQLite header\)`, args: withURL(func(e *badEnv) string { return sqliteURL(filepath.Join(e.dir, "notes.db")) }, "db", "sync")},
		badInput{name: "file: URI", want: `SQLite file: URIs are not accepted`, args: withURL(fixed("file:x.db"), "db", "sync")},
		badInput{name: "neither URL nor path", want: `database URL "glance\.conf" is neither a URL nor an SQLite file path`, args: withURL(fixed("glance.conf"), "db", "sync")},
		badInput{name: "unknown scheme", want: `unknown database URL scheme "oracle" in "oracle://scott:xxxxx@h/db"`, args: withURL(fixed("oracle://scott:tiger@h/db"), "db", "sync")},
		badInput{name: "scheme without slashes", want: `lacks "//" after "postgresql:"`, args: withURL(fixed("postgresql:x/db"), "db", "sync")},
		badInput{name: "server URL without a database", want: `names no database \(add /DBNAME after the host\)`, args: withURL(fixed("postgresql://u:S3cr3t-pw@127.0.0.1"), "db", "sync")},
		badInput{name: "server URL with a bad port", want: `invalid port "99999"`, args: withURL(fixed("mysql://root@127.0.0.1:99999/db"), "db", "sync")},
		badInput{name: "server URL with an open IPv6 bracket", want: `missing '\]' after IPv6 address`, args: withURL(fixed("postgres://[::1/db"), "db", "sync")},
		badInput{name: "bad parameter in a URL with a password", dialects: []string{"postgresql", "mysql"}, want: `xxxxx@.*(sslmode|tls)="bogus"`,
			args: withURL(func(e *badEnv) string {
				u := strings.Replace(e.url, "://root@", "://root:S3cr3t-pw@", 1)
				u = strings.Replace(u, "://postgres@", "://postgres:S3cr3t-pw@", 1)
				if e.dialect == "mysql" {
					return param("tls=bogus")(&badEnv{url: u})
				}
				return param("sslmode=bogus")(&badEnv{url: u})
			}, "db", "sync")},
		badInput{name: "sslmode=bogus", dialects: onlyPostgres, want: `sslmode="bogus": want disable, allow, prefer, require, verify-ca, verify-full$`, args: withURL(param("sslmode=bogus"), "db", "sync")},
		badInput{name: "connect_timeout=abc on PostgreSQL", dialects: onlyPostgres, want: `connect_timeout="abc": want a whole number of seconds`, args: withURL(param("connect_timeout=abc"), "db", "sync")},
		badInput{name: "connect_timeout=-1 on PostgreSQL", dialects: onlyPostgres, want: `connect_timeout="-1"`, args: withURL(param("connect_timeout=-1"), "db", "sync")},
		badInput{name: "target_session_attrs=rw", dialects: onlyPostgres, want: `target_session_attrs="rw"`, args: withURL(param("target_session_attrs=rw"), "db", "sync")},
		badInput{name: "channel_binding=always", dialects: onlyPostgres, want: `channel_binding="always"`, args: withURL(param("channel_binding=always"), "db", "sync")},
		badInput{name: "timeout=abc", dialects: onlyMySQL, want: `timeout="abc": want a duration such as 30s`, args: withURL(param("timeout=abc"), "db", "sync")},
		badInput{name: "tls=bogus", dialects: onlyMySQL, want: `tls="bogus": want true, false, skip-verify or preferred`, args: withURL(param("tls=bogus"), "db", "sync")},
		badInput{name: "loc=Nowhere/Zone", dialects: onlyMySQL, want: `loc="Nowhere/Zone": not a time zone`, args: withURL(param("loc=Nowhere%2FZone"), "db", "sync")},
		badInput{name: "parseTime=yes", dialects: onlyMySQL, want: `parseTime="yes": want true or false`, args: withURL(param("parseTime=yes"), "db", "sync")},
		badInput{name: "readTimeout=5", dialects: onlyMySQL, want: `readTimeout="5": want a duration`, args: withURL(param("readTimeout=5"), "db", "sync")},
		badInput{name: "maxAllowedPacket=big", dialects: onlyMySQL, want: `maxAllowedPacket="big"`, args: withURL(param("maxAllowedPacket=big"), "db", "sync")},
		badInput{name: "connect_timeout=soon on MySQL", dialects: onlyMySQL, want: `connect_timeout="soon": want a number of seconds`, args: withURL(param("connect_timeout=soon"), "db", "sync")},
		badInput{name: "ssl_mode=SOMETIMES", dialects: onlyMySQL, want: `ssl_mode="SOMETIMES"`, args: withURL(param("ssl_mode=SOMETIMES"), "db", "sync")},
		badInput{name: "unknown MySQL parameter", dialects: onlyMySQL, want: `unknown MySQL parameter "frobnicate"`, args: withURL(param("frobnicate=1"), "db", "sync")},
		badInput{name: "init_command", dialects: onlyMySQL, want: `init_command is not supported`, args: withURL(param("init_command=DROP+TABLE+t1"), "db", "sync")},
		badInput{name: "ssl_ca", dialects: onlyMySQL, want: `parameter "ssl_ca" is not supported`, args: withURL(param("ssl_ca=/etc/ca.pem"), "db", "sync")},
		badInput{name: "empty unix_socket", dialects: onlyMySQL, want: `unix_socket="": want the path of a socket`, args: withURL(param("unix_socket="), "db", "sync")},
		badInput{name: "sql_mode with a quote", dialects: onlyMySQL, want: `sql_mode=".*": want mode names separated by commas`, args: withURL(param("sql_mode=ANSI'%3BDROP"), "db", "sync")},
	)

	// Config files.
	conf := func(content string) func(t *testing.T, e *badEnv) { return files("conf.ini", content) }
	add(
		badInput{name: "missing config file", want: `conf\.ini: cannot read config file: no such file or directory`, args: configArgs("db", "sync")},
		badInput{name: "config file is a directory", prep: func(t *testing.T, e *badEnv) {
			if err := os.Mkdir(filepath.Join(e.dir, "conf.ini"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, want: `conf\.ini: cannot read config file: is a directory`, args: configArgs("db", "sync")},
		badInput{name: "config without [database] connection", prep: conf("[DEFAULT]\nverbose = true\n"),
			want: `conf\.ini: no database: \[database\] connection is missing or empty`, args: configArgs("db", "sync")},
		badInput{name: "config with an empty connection", prep: conf("[database]\nconnection =\n"),
			want: `conf\.ini: no database: \[database\] connection is missing or empty`, args: configArgs("db", "sync")},
		badInput{name: "later config file empties the connection", prep: func(t *testing.T, e *badEnv) {
			e.write(t, "a.ini", "[database]\nconnection = "+e.url+"\n")
			e.write(t, "conf.ini", "[database]\nconnection =\n")
		}, want: `a\.ini, .*conf\.ini: no database`, args: func(e *badEnv) []string {
			return []string{"--repository", e.repo, "--config-file", filepath.Join(e.dir, "a.ini"), "--config-file", filepath.Join(e.dir, "conf.ini"), "db", "sync"}
		}},
		badInput{name: "config with a bad URL", prep: conf("[database]\nconnection = sqlite:///\n"),
			want: `conf\.ini:2: \[database\] connection: SQLite URL "sqlite:///" names no file`, args: configArgs("db", "sync")},
		badInput{name: "config line without =", prep: conf("[database]\nconnection\n"), want: `conf\.ini:2: `, args: configArgs("db", "sync")},
		badInput{name: "config unterminated section", prep: conf("[database\nconnection = x.db\n"), want: `conf\.ini:1: `, args: configArgs("db", "sync")},
		badInput{name: "config lock_timeout not a number", prep: func(t *testing.T, e *badEnv) {
			e.write(t, "conf.ini", "[database]\nconnection = "+e.url+"\n[ratchet]\nlock_timeout = soon\n")
		}, want: `conf\.ini:4: lock_timeout = "soon": want a whole number of seconds or a duration`, args: configArgs("db", "sync")},
		badInput{name: "config lock method unknown", prep: func(t *testing.T, e *badEnv) {
			e.write(t, "conf.ini", "[database]\nconnection = "+e.url+"\n[ratchet]\nlock = galera\n")
		}, want: `conf\.ini:4: lock: unknown lock method "galera": must be advisory, lease or auto$`, args: configArgs("db", "sync")},
		badInput{name: "config lease_duration too short", prep: func(t *testing.T, e *badEnv) {
			e.write(t, "conf.ini", "[database]\nconnection = "+e.url+"\n[ratchet]\nlease_duration = 10ms\n")
		}, want: `conf\.ini:4: lease_duration 10ms: must be at least 1s$`, args: configArgs("db", "sync")},
		badInput{name: "config lock_timeout zero", prep: func(t *testing.T, e *badEnv) {
			e.write(t, "conf.ini", "[database]\nconnection = "+e.url+"\n[ratchet]\nlock_timeout = 0\n")
		}, want: `conf\.ini:4: lock_timeout = "0": must be positive`, args: configArgs("db", "sync")},
		badInput{name: "config repository missing", prep: func(t *testing.T, e *badEnv) {
			e.write(t, "conf.ini", "[database]\nconnection = "+e.url+"\n[ratchet]\nrepository = /nonexistent/repo\n")
		}, want: `/nonexistent/repo: repository directory does not exist`, args: func(e *badEnv) []string {
			return []string{"--config-file", filepath.Join(e.dir, "conf.ini"), "db", "sync"}
		}},
		badInput{name: "config connection with a bad parameter", dialects: onlyPostgres, prep: func(t *testing.T, e *badEnv) {
			e.write(t, "conf.ini", "[database]\nconnection = "+param("sslmode=sometimes")(e)+"\n")
		}, want: `conf\.ini:2: \[database\] connection: .*sslmode="sometimes"`, args: configArgs("db", "sync")},
	)

	// migrate.cfg and the repository's layout.
	cfg := func(content string) func(t *testing.T, e *badEnv) { return files("repo/migrate.cfg", content) }
	add(
		badInput{name: "missing repository", want: `repository directory does not exist`, args: func(e *badEnv) []string {
			return []string{"--repository", filepath.Join(e.dir, "nothing"), "--database", e.url, "db", "sync"}
		}},
		badInput{name: "repository is a file", prep: files("afile", "x"), want: `afile: not a directory`, args: func(e *badEnv) []string {
			return []string{"--repository", filepath.Join(e.dir, "afile"), "--database", e.url, "db", "sync"}
		}},
		badInput{name: "missing migrate.cfg", prep: func(t *testing.T, e *badEnv) {
			if err := os.Remove(filepath.Join(e.repo, "migrate.cfg")); err != nil {
				t.Fatal(err)
			}
		}, want: `migrate\.cfg`, args: std("db", "sync")},
		badInput{name: "migrate.cfg without [db_settings]", prep: cfg("[other]\nrepository_id=x\n"), want: `migrate\.cfg.*db_settings`, args: std("db", "sync")},
		badInput{name: "migrate.cfg without repository_id", prep: cfg("[db_settings]\nversion_table=migrate_version\n"), want: `migrate\.cfg.*repository_id`, args: std("db", "sync")},
		badInput{name: "migrate.cfg with an empty repository_id", prep: cfg("[db_settings]\nrepository_id=\n"), want: `migrate\.cfg.*repository_id`, args: std("db", "sync")},
		badInput{name: "migrate.cfg with a repository_id too long", prep: cfg("[db_settings]\nrepository_id=" + strings.Repeat("r", 251) + "\n"), want: `migrate\.cfg.*repository_id.*250`, args: std("db", "sync")},
		badInput{name: "migrate.cfg with a malformed line", prep: cfg("[db_settings]\nrepository_id badinput\n"), want: `^migrate\.cfg: line 2: "repository_id badinput" is not a "name = value" line`, args: std("db", "sync")},
		// PostgreSQL would silently truncate the name and never find the table again.
		badInput{name: "migrate.cfg with a version_table too long for PostgreSQL", dialects: []string{"postgresql"},
			prep: cfg("[db_settings]\nrepository_id=badinput\nversion_table=" + strings.Repeat("v", 64) + "\n"),
			want: `^migrate\.cfg: version_table "v{64}" is 64 bytes long; postgresql keeps at most 63`, args: std("db", "sync")},
		badInput{name: "migrate.cfg with a version_table too long for MySQL", dialects: []string{"mysql"},
			prep: cfg("[db_settings]\nrepository_id=badinput\nversion_table=" + strings.Repeat("é", 65) + "\n"),
			want: `^migrate\.cfg: version_table "é{65}" is 65 characters long; mysql keeps at most 64`, args: std("db", "sync")},
		badInput{name: "migrate.cfg with a bad use_timestamp_numbering", prep: cfg("[db_settings]\nrepository_id=badinput\nuse_timestamp_numbering=maybe\n"), want: `migrate\.cfg.*use_timestamp_numbering`, args: std("db", "sync")},
		badInput{name: "migrate.cfg is a directory", prep: func(t *testing.T, e *badEnv) {
			os.Remove(filepath.Join(e.repo, "migrate.cfg"))
			if err := os.Mkdir(filepath.Join(e.repo, "migrate.cfg"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, want: `migrate\.cfg`, args: std("db", "sync")},
		badInput{name: "missing versions directory", prep: func(t *testing.T, e *badEnv) {
			if err := os.RemoveAll(filepath.Join(e.repo, "versions")); err != nil {
				t.Fatal(err)
			}
		}, want: `versions`, args: std("db", "sync")},
		badInput{name: "old format versions folder", prep: files("repo/versions/1/001_x.sql", "SELECT 1;\n"), want: `versions/1`, args: std("db", "sync")},
	)

	// Script names.
	symlink := func(target, name string) func(t *testing.T, e *badEnv) {
		return func(t *testing.T, e *badEnv) {
			t.Helper()
			if err := os.Symlink(filepath.Join(e.dir, target), filepath.Join(e.repo, "versions", name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	add(
		badInput{name: "two scripts for one version and database", prep: files("repo/versions/002_again_default_upgrade.sql", "SELECT 1;\n"),
			want: `002_again_default_upgrade\.sql.*002_more_default_upgrade\.sql|002_more_default_upgrade\.sql.*002_again_default_upgrade\.sql`, args: std("db", "sync")},
		badInput{name: "two python scripts for one version", prep: files("repo/versions/003_a.py", "", "repo/versions/003_b.py", ""), want: `003_(a|b)\.py`, args: std("db", "sync")},
		badInput{name: "script name with too few parts", prep: files("repo/versions/003_upgrade.sql", "SELECT 1;\n"), want: `003_upgrade\.sql`, args: std("db", "sync")},
		badInput{name: "only a python script", prep: script("002_more.py", "print('x')\n"), want: `002_more\.py`, args: std("db", "sync")},
		badInput{name: "crossing a missing version", prep: func(t *testing.T, e *badEnv) {
			os.Rename(filepath.Join(e.repo, "versions", "002_more_default_upgrade.sql"), filepath.Join(e.repo, "versions", "003_more_default_upgrade.sql"))
		}, want: `\b2\b`, args: std("db", "upgrade", "3")},
		badInput{name: "script for another database only", prep: script("002_more_nodb_upgrade.sql", "SELECT 1;\n"), want: `version 2 has no upgrade script`, args: std("db", "sync")},
		badInput{name: "dangling symlink as a script", prep: func(t *testing.T, e *badEnv) {
			os.Remove(filepath.Join(e.repo, "versions", "002_more_default_upgrade.sql"))
			symlink("gone.sql", "002_more_default_upgrade.sql")(t, e)
		}, want: `^versions/002_more_default_upgrade\.sql: `, args: std("db", "sync")},
		badInput{name: "symlink to a folder as a script", prep: func(t *testing.T, e *badEnv) {
			os.Remove(filepath.Join(e.repo, "versions", "002_more_default_upgrade.sql"))
			if err := os.Mkdir(filepath.Join(e.dir, "folder"), 0o755); err != nil {
				t.Fatal(err)
			}
			symlink("folder", "002_more_default_upgrade.sql")(t, e)
		}, want: `^versions/002_more_default_upgrade\.sql: `, args: std("db", "sync")},
		badInput{name: "folder named as a script", prep: func(t *testing.T, e *badEnv) {
			os.Remove(filepath.Join(e.repo, "versions", "002_more_default_upgrade.sql"))
			if err := os.Mkdir(filepath.Join(e.repo, "versions", "002_more_default_upgrade.sql"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, want: `versions/002_more_default_upgrade\.sql`, args: std("db", "sync")},
		badInput{name: "version_control beyond the latest", want: `\b9\b`, args: std("db", "version_control", "9")},
	)

	// Script bytes.
	nul := func(name, content, want string) badInput {
		return badInput{name: name, prep: script("002_more_default_upgrade.sql", content), want: want, args: std("db", "sync")}
	}
	meta := func(name, content, want string) badInput {
		return badInput{name: name, dialects: onlyPostgres, prep: script("002_more_postgresql_upgrade.sql", content), want: want, args: std("db", "sync")}
	}
	add(
		nul("NUL at the start", "\x00CREATE TABLE t2 (id INTEGER);\n", `^versions/002_more_default_upgrade\.sql:1: NUL byte \(0x00\) at column 1`),
		nul("NUL after a statement", "CREATE TABLE t2 (id INTEGER);\x00DROP TABLE t1;\n", `^versions/002_more_default_upgrade\.sql:1: NUL byte \(0x00\) at column 30`),
		nul("NUL in a string", "CREATE TABLE t2 (id INTEGER);\nINSERT INTO t1 (id, name) VALUES (2, 'a\x00b');\n", `:2: NUL byte \(0x00\) at column 40`),
		nul("NUL in a comment", "-- note \x00\nCREATE TABLE t2 (id INTEGER);\n", `:1: NUL byte`),
		nul("NUL on the last line", "CREATE TABLE t2 (id INTEGER);\n\n\nSELECT 1;\x00", `:4: NUL byte`),
		nul("NUL in a statement's middle", "CREATE TABLE t2 (id\x00 INTEGER);\n", `:1: NUL byte \(0x00\) at column 20`),
		meta("psql \\connect", "CREATE TABLE t2 (id INTEGER);\n\\connect other\nDROP TABLE t1;\n", `^versions/002_more_postgresql_upgrade\.sql:2: psql meta-command \\connect is not SQL`),
		meta("psql \\c", "\\c other\nCREATE TABLE t2 (id INTEGER);\n", `:1: psql meta-command \\c is not SQL`),
		meta("psql \\set", "CREATE TABLE t2 (id INTEGER);\n\\set ON_ERROR_STOP on\n", `:2: psql meta-command \\set`),
		meta("psql \\i", "\\i other.sql\n", `:1: psql meta-command \\i`),
		meta("psql \\gexec inside a statement", "SELECT 'CREATE TABLE t2 (id INTEGER)'\n\\gexec\n", `:2: psql meta-command \\gexec`),
		meta("psql command indented", "CREATE TABLE t2 (id INTEGER);\n   \\unset x\n", `:2: psql meta-command \\unset`),
		meta("end of COPY data without a COPY", "CREATE TABLE t2 (id INTEGER);\n\\.\n", `:2: psql meta-command \\\.`),
		badInput{name: "meta-command in a default script", dialects: onlyPostgres, prep: script("002_more_default_upgrade.sql", "\\connect x\n"), want: `:1: psql meta-command \\connect`, args: std("db", "sync")},
		badInput{name: "unterminated string", code: cli.ExitFailed, prep: script("002_more_default_upgrade.sql", "CREATE TABLE t2 (id INTEGER);\nSELECT 'never closed;\n"),
			want: `^versions/002_more_default_upgrade\.sql:2: unterminated string literal`, args: std("db", "sync")},
		badInput{name: "unterminated comment", code: cli.ExitFailed, prep: script("002_more_default_upgrade.sql", "CREATE TABLE t2 (id INTEGER);\n/* never closed\n"),
			want: `:2: unterminated /\* … \*/ comment`, args: std("db", "sync")},
		badInput{name: "unterminated dollar quote", code: cli.ExitFailed, dialects: onlyPostgres, prep: script("002_more_default_upgrade.sql", "CREATE TABLE t2 (id INTEGER);\nSELECT $x$ never;\n"),
			want: `:2: unterminated dollar-quoted string`, args: std("db", "sync")},
		badInput{name: "COMMIT in the middle of a version", code: cli.ExitFailed, prep: script("002_more_default_upgrade.sql", "CREATE TABLE t2 (id INTEGER);\nCOMMIT AND CHAIN;\n"),
			want: `:2: .*would end the transaction`, args: std("db", "sync")},
		badInput{name: "bad DELIMITER line", code: cli.ExitFailed, dialects: onlyMySQL, prep: script("002_more_default_upgrade.sql", "CREATE TABLE t2 (id INTEGER);\nDELIMITER\n"),
			want: `:2: `, args: std("db", "sync")},
		badInput{name: "NUL in a script of a later version", prep: files("repo/versions/003_late_default_upgrade.sql", "SELECT 1;\x00\n"),
			want: `^versions/003_late_default_upgrade\.sql:1: NUL byte`, args: std("db", "sync")},
	)

	// Backup files.
	add(
		badInput{name: "restore a missing file", want: `nothing\.backup: no such file`, args: restoreArgs(func(e *badEnv) string { return filepath.Join(e.dir, "nothing.backup") })},
		badInput{name: "restore an empty file", prep: files("bad.backup", ""), want: `bad\.backup: not a ratchet backup`, args: restoreArgs(badBackup)},
		badInput{name: "restore a text file", prep: files("bad.backup", "CREATE TABLE t (id INTEGER);\n"), want: `bad\.backup: not a ratchet backup`, args: restoreArgs(badBackup)},
		badInput{name: "restore a directory", prep: func(t *testing.T, e *badEnv) {
			if err := os.Mkdir(badBackup(e), 0o755); err != nil {
				t.Fatal(err)
			}
		}, want: `bad\.backup`, args: restoreArgs(badBackup)},
		badInput{name: "restore a truncated backup", prep: backupCopy(func(t *testing.T, b []byte) []byte { return b[:len(b)/2] }), want: `bad\.backup: truncated`, args: restoreArgs(badBackup)},
		badInput{name: "restore a backup cut at the end", prep: backupCopy(func(t *testing.T, b []byte) []byte { return b[:len(b)-1024] }), want: `bad\.backup: truncated`, args: restoreArgs(badBackup)},
		badInput{name: "restore a backup with a changed payload byte", prep: backupCopy(func(t *testing.T, b []byte) []byte {
			b[512+100] ^= 0x20
			return b
		}), want: `bad\.backup: checksum mismatch`, args: restoreArgs(badBackup)},
		badInput{name: "restore a backup whose manifest version was edited", prep: backupCopy(editManifest(func(m map[string]any) { m["version"] = 2 })),
			want: `bad\.backup: manifest checksum mismatch: manifest\.json was modified`, args: restoreArgs(badBackup)},
		badInput{name: "restore a backup whose manifest repository was edited", prep: backupCopy(editManifest(func(m map[string]any) { m["repository_id"] = "elsewhere" })),
			want: `manifest checksum mismatch`, args: restoreArgs(badBackup)},
		badInput{name: "restore a backup whose manifest dialect was edited", prep: func(t *testing.T, e *badEnv) {
			// Another dialect's payload claiming to be of this dialect.
			data, err := os.ReadFile(e.backups[otherDialect(e)])
			if err != nil {
				t.Fatal(err)
			}
			data = editManifest(func(m map[string]any) { m["dialect"] = e.dialect })(t, data)
			if err := os.WriteFile(badBackup(e), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}, want: `manifest checksum mismatch`, args: restoreArgs(badBackup)},
		badInput{name: "restore a backup whose manifest checksum was removed", prep: backupCopy(editManifest(func(m map[string]any) { delete(m, "manifest_sha256") })),
			want: `manifest checksum mismatch`, args: restoreArgs(badBackup)},
		badInput{name: "restore a backup of an unknown format", prep: backupCopy(editManifest(func(m map[string]any) { m["format"] = "ratchet-backup/9" })),
			want: `unknown backup format "ratchet-backup/9"`, args: restoreArgs(badBackup)},
		badInput{name: "restore a backup of another dialect", want: `\.ratchet-backup is a backup of a \w+ database; it cannot be restored into a \w+ database$`, args: restoreArgs(func(e *badEnv) string { return e.backups[otherDialect(e)] })},
		badInput{name: "restore a backup of another repository", dialects: onlySQLite, want: `repository.*other|other.*repository`, args: restoreArgs(func(e *badEnv) string { return e.other })},
		badInput{name: "restore into a database that is not empty, without --yes", want: `is not empty .*pass --yes`, args: func(e *badEnv) []string {
			return e.std("db", "restore", e.backups[e.dialect])
		}},
		badInput{name: "restore an SQLite file", dialects: onlySQLite, prep: func(t *testing.T, e *badEnv) {
			data, err := os.ReadFile(strings.TrimPrefix(e.url, "sqlite:///"))
			if err != nil {
				t.Fatal(err)
			}
			e.write(t, "bad.backup", string(data))
		}, want: `not a ratchet backup`, args: restoreArgs(badBackup)},
		badInput{name: "restore into a missing database a corrupt backup", prep: backupCopy(func(t *testing.T, b []byte) []byte { return b[:len(b)/2] }),
			want: `truncated`, args: func(e *badEnv) []string {
				return []string{"--repository", e.repo, "--database", e.missing, "db", "restore", badBackup(e), "--yes"}
			}},
		badInput{name: "restore into a missing database a backup of another repository", dialects: onlySQLite, want: `repository`, args: func(e *badEnv) []string {
			return []string{"--repository", e.repo, "--database", e.missing, "db", "restore", e.other, "--yes"}
		}},
		badInput{name: "backup over an existing file", prep: files("exists.backup", "keep me"), want: `exists\.backup already exists: a backup never replaces a file`, args: func(e *badEnv) []string {
			return e.std("db", "backup", "--out", filepath.Join(e.dir, "exists.backup"))
		}},
	)
	return cases
}
