package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// TestInteropRollingVersion: the legacy tool never runs a phase script. A rolling version
// without an _upgrade.sql stops it before it runs anything, the version before included; with
// one, it applies the version whole, and ratchet, which never runs that file, applies the
// phases and ends with the same rows.
func TestInteropRollingVersion(t *testing.T) {
	legacy := findLegacy(t)
	files := map[string]string{
		"migrate.cfg":                            "[db_settings]\nrepository_id=rolling\nversion_table=migrate_version\nrequired_dbs=[]\n",
		"versions/__init__.py":                   "",
		"versions/001_items_default_upgrade.sql": "CREATE TABLE items (id INTEGER NOT NULL, a VARCHAR(20), PRIMARY KEY (id));\nINSERT INTO items (id, a) VALUES (1, 'one');\n",
		"versions/002_b_default_expand.sql":      "ALTER TABLE items ADD COLUMN b VARCHAR(20);\n",
		"versions/002_b_default_migrate.sql":     "-- ratchet:repeat\n-- ratchet:pending SELECT 1 FROM items WHERE b IS NULL\nUPDATE items SET b = a WHERE b IS NULL;\n",
		"versions/002_b_default_contract.sql":    "CREATE TABLE contracted (id INTEGER);\n",
	}
	write := func(t *testing.T, dir string, files map[string]string) {
		for name, text := range files {
			path := filepath.Join(dir, "repo", filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			writeText(t, path, text)
		}
	}
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			write(t, dir, files)
			e := newInteropEnvIn(t, legacy, name, dir)
			e.legacyDB("version_control").mustSucceed(t)
			up := e.legacyDB("upgrade")
			if up.code == 0 || !strings.Contains(up.stdout+up.stderr, "There is no script for 2 version") {
				t.Fatalf("legacy upgrade of a rolling version: %v; want its refusal", up)
			}
			if v := strings.TrimSpace(e.legacyDB("db_version").mustSucceed(t)); v != "0" {
				t.Fatalf("legacy db_version = %q after the refusal; want 0: nothing may run", v)
			}
			if tables := strings.Join(e.db.Tables(t), ","); strings.Contains(tables, "items") {
				t.Fatalf("the legacy tool ran version 1 before refusing version 2: tables %s", tables)
			}
			e.ratchet("db", "sync").mustSucceed(t)
			if got := e.query(t, "SELECT id, a, b FROM items"); got != "1\tone\tone\n" {
				t.Errorf("items after ratchet's sync = %q", got)
			}
			if v := strings.TrimSpace(e.legacyDB("db_version").mustSucceed(t)); v != "2" {
				t.Errorf("legacy db_version = %q after ratchet's sync; want 2", v)
			}

			// With a legacy compatibility script, the legacy tool applies the version whole.
			dir2 := t.TempDir()
			write(t, dir2, files)
			write(t, dir2, map[string]string{"versions/002_b_default_upgrade.sql": "ALTER TABLE items ADD COLUMN b VARCHAR(20);\nUPDATE items SET b = a;\nCREATE TABLE contracted (id INTEGER);\n"})
			e2 := newInteropEnvIn(t, legacy, name, dir2)
			e2.legacyDB("version_control").mustSucceed(t)
			e2.legacyDB("upgrade").mustSucceed(t)
			if got := e2.query(t, "SELECT id, a, b FROM items"); got != "1\tone\tone\n" {
				t.Errorf("items after the legacy upgrade = %q", got)
			}
			if v := strings.TrimSpace(e2.ratchet("db", "version").mustSucceed(t)); v != "2" {
				t.Errorf("ratchet db version = %q after the legacy upgrade; want 2", v)
			}
		})
	}
}
