package main

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ratchetdb/ratchet/internal/dburl"
	"github.com/ratchetdb/ratchet/internal/testdb"
)

// cmdDBSnapshot writes to FILE a text snapshot of $RATCHET_DATABASE that changes whenever
// anything in the database does: `dbsnapshot before.txt`, then `cmp before.txt after.txt`.
// For SQLite it is the file's size and SHA-256; on the servers it is every table's
// definition and rows, with the row versions the server keeps (PostgreSQL's xmin of catalog
// and table rows, MariaDB's table create and update times), so that a row rewritten with the
// same values still shows.
func cmdDBSnapshot(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: dbsnapshot FILE")
	}
	raw := ts.Getenv("RATCHET_DATABASE")
	u, err := dburl.Parse(raw)
	ts.Check(err)
	var snap string
	if u.Dialect == "sqlite" {
		data, err := os.ReadFile(u.Database)
		ts.Check(err)
		sum := sha256.Sum256(data)
		snap = fmt.Sprintf("%d bytes, sha256 %s\n", len(data), hex.EncodeToString(sum[:]))
		for _, side := range []string{"-journal", "-wal"} {
			if _, err := os.Stat(u.Database + side); err == nil {
				snap += u.Database + side + " exists\n"
			}
		}
	} else {
		db, err := testdb.Connect(raw)
		ts.Check(err)
		defer db.Close()
		snap, err = serverSnapshot(db, u.Dialect)
		ts.Check(err)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(snap), 0o644))
}

// serverSnapshot lists a server database's relations and every table's rows.
func serverSnapshot(db *sql.DB, dialect string) (string, error) {
	var catalog, tables, rowQuery string
	switch dialect {
	case "postgresql":
		catalog = `SELECT c.relname, c.relkind, c.relfilenode, c.xmin::text, COALESCE(pg_get_indexdef(c.oid), '')
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
			ORDER BY c.relname`
		tables = `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY 1`
		rowQuery = `SELECT xmin::text, t.* FROM %q t`
	case "mysql":
		catalog = `SELECT table_name, table_type, COALESCE(engine, ''), COALESCE(auto_increment, 0),
				COALESCE(create_time, ''), COALESCE(update_time, '')
			FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name`
		tables = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1`
		rowQuery = "SELECT * FROM `%s`"
	default:
		return "", fmt.Errorf("dbsnapshot: no snapshot for dialect %q", dialect)
	}
	var b strings.Builder
	out, err := queryText(db, catalog)
	if err != nil {
		return "", err
	}
	b.WriteString(out)
	names, err := testdb.Strings(db, tables)
	if err != nil {
		return "", err
	}
	for _, name := range names {
		if dialect == "mysql" {
			var n, def string
			if err := db.QueryRow("SHOW CREATE TABLE `"+name+"`").Scan(&n, &def); err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "%s\n", def)
		}
		out, err := queryText(db, fmt.Sprintf(rowQuery, name))
		if err != nil {
			return "", err
		}
		rows := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		slices.Sort(rows)
		fmt.Fprintf(&b, "rows of %s:\n%s\n", name, strings.Join(rows, "\n"))
	}
	return b.String(), nil
}

// cmdMissingDB sets VAR to the URL of a database that does not exist, on the server of
// $RATCHET_DATABASE (for SQLite, a file in the work directory): `missingdb NEWDB`. Should a
// command create it, it is dropped when the scenario ends.
func cmdMissingDB(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: missingdb VAR")
	}
	raw := ts.Getenv("RATCHET_DATABASE")
	u, err := dburl.Parse(raw)
	ts.Check(err)
	if u.Dialect == "sqlite" {
		ts.Setenv(args[0], "sqlite:///"+ts.MkAbs("missing.sqlite"))
		return
	}
	name := u.Database + "_missing"
	ts.Setenv(args[0], testdb.ReplaceDatabase(raw, name))
	ts.Defer(func() {
		if err := testdb.Drop(u.Dialect, name); err != nil {
			ts.Logf("%v", err)
		}
	})
}

// cmdDBExists succeeds when the database of URL exists: `! dbexists $NEWDB`.
func cmdDBExists(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: dbexists URL")
	}
	u, err := dburl.Parse(args[0])
	ts.Check(err)
	var exists bool
	if u.Dialect == "sqlite" {
		_, err := os.Stat(u.Database)
		exists = err == nil
	} else {
		admin, err := testdb.Connect(testdb.ServerURL(u.Dialect))
		ts.Check(err)
		defer admin.Close()
		query := `SELECT count(*) FROM pg_database WHERE datname = $1`
		if u.Dialect == "mysql" {
			query = `SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?`
		}
		var n int
		ts.Check(admin.QueryRow(query, u.Database).Scan(&n))
		exists = n > 0
	}
	if exists == neg {
		ts.Fatalf("database %s exists: %v", u, exists)
	}
}
