// Package testdb gives tests a fresh database of each supported dialect: an SQLite file, or a
// database `ratchet_t_<random>` created on the PostgreSQL or MariaDB/MySQL server named by
// RATCHET_TEST_POSTGRES / RATCHET_TEST_MYSQL and dropped when the test ends.
//
// An unreachable server skips the test with a loud message, unless
// RATCHET_TEST_REQUIRE_SERVERS=1 (set in CI), which makes it fail instead.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/drivers/mysqldriver"
	"github.com/ratchetdb/ratchet/drivers/pgxdriver"
	"github.com/ratchetdb/ratchet/drivers/sqlitedriver"
	"github.com/ratchetdb/ratchet/internal/dburl"
	"github.com/ratchetdb/ratchet/internal/sqlrows"
	"github.com/ratchetdb/ratchet/internal/testenv"
)

// Server URLs used when the environment does not name others.
const (
	DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultMySQL    = "mysql://root@127.0.0.1:3306/test"
)

// DB is a fresh, empty test database.
type DB struct {
	Dialect dialect.Dialect
	Driver  ratchet.Driver
	URL     string // ratchet URL of the database, for the CLI
	Name    string // database name (file path for SQLite)
	DB      *sql.DB
}

// Drivers maps each dialect to ratchet's driver for it.
var Drivers = map[dialect.Dialect]ratchet.Driver{
	dialect.SQLite: sqlitedriver.New(), dialect.Postgres: pgxdriver.New(), dialect.MySQL: mysqldriver.New(),
}

// Schema returns the schema (PostgreSQL), database (MySQL) or "main" (SQLite) the test
// database's tables live in.
func (tdb *DB) Schema() string {
	switch tdb.Dialect {
	case dialect.Postgres:
		return "public"
	case dialect.MySQL:
		return tdb.Name
	}
	return dialect.DefaultSchema
}

// Dialects lists the dialect names a conformance test runs on.
var Dialects = []string{"sqlite", "postgresql", "mysql"}

// ServerURL returns the admin URL of the server for a dialect, from the environment.
func ServerURL(name string) string {
	switch name {
	case "postgresql":
		return envOr("RATCHET_TEST_POSTGRES", DefaultPostgres)
	case "mysql":
		return envOr("RATCHET_TEST_MYSQL", DefaultMySQL)
	}
	return ""
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Required reports whether server tests must run (CI) rather than skip.
func Required() bool { return os.Getenv("RATCHET_TEST_REQUIRE_SERVERS") == "1" }

// New returns a fresh database of the named dialect, removed when the test ends.
func New(t testing.TB, name string) *DB {
	t.Helper()
	d, ok := dialect.ByName(name)
	if !ok {
		t.Fatalf("testdb: unknown dialect %q", name)
	}
	if d == dialect.SQLite {
		path := filepath.Join(t.TempDir(), "test.sqlite")
		return &DB{Dialect: d, Driver: Drivers[d], URL: "sqlite:///" + path, Name: path, DB: Open(t, "sqlite:///"+path)}
	}
	Admin(t, name) // skips or fails the test when the server is unreachable
	url, dbName, err := Create(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := Drop(name, dbName); err != nil {
			t.Error(err)
		}
	})
	return &DB{Dialect: d, Driver: Drivers[d], URL: url, Name: dbName, DB: Open(t, url)}
}

// Create creates a fresh database `ratchet_t_<random>` on the server of a dialect and
// returns its URL and name. The caller drops it with [Drop].
func Create(name string) (url, dbName string, err error) {
	d, _ := dialect.ByName(name)
	admin, err := Connect(ServerURL(name))
	if err != nil {
		return "", "", err
	}
	defer admin.Close()
	dbName = "ratchet_t_" + randomSuffix()
	if _, err := admin.Exec("CREATE DATABASE " + d.Ident(dbName)); err != nil {
		return "", "", fmt.Errorf("testdb: creating %s: %w", dbName, err)
	}
	return ReplaceDatabase(ServerURL(name), dbName), dbName, nil
}

// Admin returns a connection to the server's own test database, skipping or failing the
// test when the server is unreachable (see the package documentation).
func Admin(t testing.TB, name string) *sql.DB {
	t.Helper()
	raw := ServerURL(name)
	db := Open(t, raw)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		msg := "testdb: " + name + " server at " + dburl.Redact(raw) + " is unreachable: " + err.Error()
		if Required() {
			t.Fatal(msg + " (RATCHET_TEST_REQUIRE_SERVERS=1)")
		}
		t.Log(msg)
		testenv.Skip(t, "the "+name+" server at "+dburl.Redact(raw)+" is unreachable (see README: Tests)")
	}
	return db
}

// Drop removes a test database created on the server.
func Drop(name, dbName string) error {
	d, _ := dialect.ByName(name)
	admin, err := Connect(ServerURL(name))
	if err != nil {
		return err
	}
	defer admin.Close()
	stmt := "DROP DATABASE IF EXISTS " + d.Ident(dbName)
	if d == dialect.Postgres {
		stmt += " WITH (FORCE)"
	}
	if _, err := admin.Exec(stmt); err != nil {
		return fmt.Errorf("testdb: dropping %s: %w", dbName, err)
	}
	return nil
}

// Open opens a ratchet URL with the driver ratchet uses; closed when the test ends.
func Open(t testing.TB, raw string) *sql.DB {
	t.Helper()
	db, err := Connect(raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Connect opens a ratchet URL with the driver ratchet uses.
func Connect(raw string) (*sql.DB, error) {
	u, err := dburl.Parse(raw)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(u.Driver, u.DSN(dburl.DSNOptions{BusyTimeout: 20 * time.Second}))
	if err != nil {
		return nil, err
	}
	if u.Dialect == "sqlite" {
		db.SetMaxOpenConns(1)
	}
	return db, nil
}

// ReplaceDatabase swaps the database name in a server URL's path, keeping its query.
func ReplaceDatabase(raw, name string) string {
	scheme, rest, _ := strings.Cut(raw, "://")
	host, tail, _ := strings.Cut(rest, "/")
	_, query, hasQuery := strings.Cut(tail, "?")
	out := scheme + "://" + host + "/" + name
	if hasQuery {
		out += "?" + query
	}
	return out
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Strings runs a query whose rows have one string column and returns the values.
func Strings(db *sql.DB, query string, args ...any) ([]string, error) {
	return sqlrows.Strings(context.Background(), db, query, args...)
}

// Tables returns the tables of the database, bookkeeping included, sorted.
func (tdb *DB) Tables(t testing.TB) []string {
	t.Helper()
	names, err := Strings(tdb.DB, tdb.Dialect.ListTables(), tdb.Schema())
	if err != nil {
		t.Fatal(err)
	}
	return names
}
