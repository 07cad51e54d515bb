package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/testdb"
)

// fakeTools makes PATH hold only the given shell scripts, by name. The scripts can use only
// the shell's builtins.
func fakeTools(t *testing.T, scripts map[string]string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("fake tools are shell scripts")
	}
	dir := t.TempDir()
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir)
	return dir
}

// serverBackup writes a valid backup file of the dialect holding payload.
func serverBackup(t *testing.T, d dialect.Dialect, payloadName string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b"+Extension)
	w, err := newArchiveWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("dump"))
	m := &Manifest{Format: Format, Dialect: d.Name(), RepositoryID: "repo", CreatedAt: time.Now(), Payload: payloadName}
	if err := w.finish(m); err != nil {
		t.Fatal(err)
	}
	if err := publish(w.tmp, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMissingTools(t *testing.T) {
	fakeTools(t, nil)
	ctx := context.Background()
	tests := []struct {
		d                  dialect.Dialect
		payload            string
		backupMsg, restMsg string
	}{
		{dialect.Postgres, "payload.pgdump",
			"pg_dump not found in PATH: install the Debian package postgresql-client",
			"pg_restore not found in PATH: install the Debian package postgresql-client"},
		{dialect.MySQL, "payload.sql",
			"mariadb-dump or mysqldump not found in PATH: install the Debian package mariadb-client",
			"mariadb or mysql not found in PATH: install the Debian package mariadb-client"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		db := Database{Dialect: tt.d, Name: "glance", DB: testdb.Open(t, "sqlite://")}
		_, err := Create(ctx, db, filepath.Join(dir, "b"+Extension), Info{RepositoryID: "repo"})
		if !errors.Is(err, ErrToolMissing) || !strings.HasSuffix(err.Error(), tt.backupMsg) {
			t.Errorf("%s backup: err = %v, want ErrToolMissing ending %q", tt.d.Name(), err, tt.backupMsg)
		}
		assertOnlyEntries(t, dir)
		_, err = Restore(ctx, db, serverBackup(t, tt.d, tt.payload), "repo")
		if !errors.Is(err, ErrToolMissing) || !strings.HasSuffix(err.Error(), tt.restMsg) {
			t.Errorf("%s restore: err = %v, want ErrToolMissing ending %q", tt.d.Name(), err, tt.restMsg)
		}
	}
}

func TestPgDumpTooOld(t *testing.T) {
	fakeTools(t, map[string]string{"pg_dump": `
if [ "$1" = --version ]; then echo "pg_dump (PostgreSQL) 15.2"; exit 0; fi
echo "pg_dump: error: aborting because of server version mismatch" >&2
echo "pg_dump: detail: server version: 17.1; pg_dump version: 15.2" >&2
exit 1
`})
	dir := t.TempDir()
	_, err := Create(context.Background(), Database{Dialect: dialect.Postgres, Name: "glance"}, filepath.Join(dir, "b"), Info{})
	const want = "pg_dump 15.2 is older than the PostgreSQL 17.1 server: install the Debian package postgresql-client-17"
	if !errors.Is(err, ErrToolTooOld) || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("err = %v, want ErrToolTooOld ending %q", err, want)
	}
	assertOnlyEntries(t, dir)
}

// TestToolSecrets checks that the password reaches the tool through its environment only,
// and that the tool's messages are shown without it.
func TestToolSecrets(t *testing.T) {
	const password = "s3cr3t-P4ss"
	dir := fakeTools(t, map[string]string{"mariadb-dump": `
echo "$@" > "${0%/*}/args"
echo "$MYSQL_PWD" > "${0%/*}/env"
echo "mariadb-dump: Got error: 1045: \"Access denied for user 'glance'@'10.0.0.1' (using password: $MYSQL_PWD)\" mysql://glance:$MYSQL_PWD@db/glance" >&2
exit 2
`})
	db := Database{Dialect: dialect.MySQL, Name: "glance", Host: "db", User: "glance", Password: password}
	_, err := Create(context.Background(), db, filepath.Join(t.TempDir(), "b"), Info{})
	if !errors.Is(err, ErrToolFailed) || !strings.Contains(err.Error(), "Access denied for user 'glance'") {
		t.Fatalf("err = %v, want the tool's message", err)
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("the error shows the password: %v", err)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	env, _ := os.ReadFile(filepath.Join(dir, "env"))
	if strings.Contains(string(args), password) || strings.TrimSpace(string(env)) != password {
		t.Errorf("tool arguments %q, MYSQL_PWD %q: want the password in the environment only", args, env)
	}
	for _, want := range []string{"--protocol=TCP", "--host=db", "--port=3306", "--user=glance", "--single-transaction", "--routines", "--triggers", "--events", "glance"} {
		if !strings.Contains(" "+string(args), " "+want) {
			t.Errorf("tool arguments %q lack %s", args, want)
		}
	}
}

func TestPgConninfo(t *testing.T) {
	db := Database{Name: "gl'ance", Host: "db", Port: "5433", User: `us\er`, Password: "pw",
		Params: map[string]string{"sslmode": "require", "password": "other", "host": "/run/postgresql"}}
	const want = `dbname='gl\'ance' host='/run/postgresql' port='5433' sslmode='require' user='us\\er'`
	if got := pgConninfo(db); got != want {
		t.Errorf("pgConninfo = %s, want %s", got, want)
	}
	if got := pgPassword(Database{Params: map[string]string{"password": "q"}}); got != "q" {
		t.Errorf("password from Params = %q", got)
	}
}

func TestMySQLConnArgs(t *testing.T) {
	got := strings.Join(mysqlConnArgs(Database{Socket: "/run/mysqld/mysqld.sock", Host: "localhost", User: "root"}), " ")
	if want := "--protocol=SOCKET --socket=/run/mysqld/mysqld.sock --user=root"; got != want {
		t.Errorf("socket: %s, want %s", got, want)
	}
	got = strings.Join(mysqlConnArgs(Database{}), " ")
	if want := "--protocol=TCP --host=127.0.0.1 --port=3306"; got != want {
		t.Errorf("defaults: %s, want %s", got, want)
	}
}
