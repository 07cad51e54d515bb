package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// TestConformanceScripts runs the scenarios of testdata/conformance against a fresh database
// of every dialect: the same commands must behave the same on SQLite, PostgreSQL and
// MariaDB/MySQL. Scenarios see the database as $RATCHET_DATABASE, its dialect as the
// condition [dialect:NAME], and query it with dbquery/dbexec.
func TestConformanceScripts(t *testing.T) {
	for _, name := range testdb.Dialects {
		t.Run(name, func(t *testing.T) {
			if name != "sqlite" {
				testdb.Admin(t, name) // skips or fails when the server is unreachable
			}
			p := scriptParams(filepath.Join("..", "..", "testdata", "conformance"))
			base := p.Setup
			p.Setup = func(env *testscript.Env) error {
				if err := base(env); err != nil {
					return err
				}
				url := "sqlite:///" + filepath.Join(env.WorkDir, "conformance.sqlite")
				if name != "sqlite" {
					var dbName string
					var err error
					if url, dbName, err = testdb.Create(name); err != nil {
						return err
					}
					env.Defer(func() {
						if err := testdb.Drop(name, dbName); err != nil {
							env.T().Log(err)
						}
					})
				}
				env.Setenv("RATCHET_DATABASE", url)
				env.Setenv("MARIADB_URL", strings.Replace(url, "mysql://", "mariadb://", 1))
				return nil
			}
			p.Condition = func(cond string) (bool, error) {
				if d, ok := strings.CutPrefix(cond, "dialect:"); ok {
					return d == name, nil
				}
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			p.Cmds["dbquery"] = cmdDBQuery
			p.Cmds["dbexec"] = cmdDBExec
			p.Cmds["dbsnapshot"] = cmdDBSnapshot
			p.Cmds["missingdb"] = cmdMissingDB
			p.Cmds["dbexists"] = cmdDBExists
			testscript.Run(t, p)
		})
	}
}

// cmdDBQuery prints the rows of a query on $RATCHET_DATABASE: `dbquery 'SELECT version FROM migrate_version'`.
func cmdDBQuery(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: dbquery QUERY")
	}
	db, err := testdb.Connect(ts.Getenv("RATCHET_DATABASE"))
	ts.Check(err)
	defer db.Close()
	out, err := queryText(db, args[0])
	if neg {
		if err == nil {
			ts.Fatalf("dbquery: query succeeded unexpectedly")
		}
		return
	}
	ts.Check(err)
	ts.Stdout().Write([]byte(out))
}

// cmdDBExec runs statements on $RATCHET_DATABASE, one argument each.
func cmdDBExec(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: dbexec STATEMENT...")
	}
	db, err := testdb.Connect(ts.Getenv("RATCHET_DATABASE"))
	ts.Check(err)
	defer db.Close()
	for _, stmt := range args {
		_, err := db.Exec(stmt)
		ts.Check(err)
	}
}
