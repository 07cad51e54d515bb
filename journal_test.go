package ratchet_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/internal/testdb"
	"github.com/ratchetdb/ratchet/internal/versiontable"
)

// journalled runs a test on the dialects where the given script runs statement by statement:
// every dialect for `-- ratchet:no-transaction` scripts, MySQL/MariaDB for all scripts.
func journalled(t *testing.T, noTx bool, test func(t *testing.T, tdb *testdb.DB)) {
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		if !noTx && tdb.Dialect.TransactionalDDL() {
			t.Skip("versions run in one transaction on this dialect (TestFailingScriptRollsBackItsVersionOnly)")
		}
		test(t, tdb)
	})
}

func TestJournalResumeAndRetry(t *testing.T) {
	for _, noTx := range []bool{false, true} {
		name := "implicit-commit DDL"
		header := ""
		if noTx {
			name, header = "no-transaction script", "-- ratchet:no-transaction\n"
		}
		t.Run(name, func(t *testing.T) {
			journalled(t, noTx, func(t *testing.T, tdb *testdb.DB) {
				ctx := context.Background()
				broken := header + "CREATE TABLE t2 (id INTEGER);\nINSERT INTO t2 (id) VALUES (1);\nINSERT INTO nope (id) VALUES (2);\nCREATE TABLE t3 (id INTEGER);"
				files := map[string]string{
					"001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);",
					"002_b_default_upgrade.sql": broken,
				}
				// Statements that commit on their own stay applied; in a no-transaction script
				// that is every statement, on MySQL the CREATE TABLE only: the two INSERTs share
				// a transaction that the failure rolls back.
				applied := 1
				if noTx {
					applied = 2
				}
				m := newMigrator(t, tdb, newRepo(t, files))
				_, err := m.Upgrade(ctx, ratchet.Latest)
				var se *ratchet.ScriptError
				if !errors.As(err, &se) || !se.Journalled || se.Applied != applied || se.Total != 4 || se.Line != 3+len(strings.Split(header, "\n"))-1 {
					t.Fatalf("err = %v (%+v), want a journalled ScriptError after %d of 4", err, se, applied)
				}
				var rows int
				if err := tdb.DB.QueryRow("SELECT count(*) FROM t2").Scan(&rows); err != nil || rows != applied-1 {
					t.Fatalf("t2 holds %d rows, %v; want %d", rows, err, applied-1)
				}
				// The version is not recorded; the next run refuses, naming the choices.
				if v, _ := m.Version(ctx); v != 1 {
					t.Fatalf("version = %d, want 1", v)
				}
				_, err = m.Upgrade(ctx, ratchet.Latest)
				var sv *ratchet.StoppedVersionError
				if !errors.As(err, &sv) || sv.Failed != 3 || sv.Applied != applied || sv.InFlight != 0 ||
					!strings.Contains(err.Error(), "version 2 failed at statement 3 of 4 (versions/002_b_default_upgrade.sql:") {
					t.Fatalf("second run: %v (%+v), want the stopped-version refusal", err, sv)
				}
				st, err := m.Status(ctx)
				if err != nil || st.Version != 1 || st.Pending() != 1 {
					t.Fatalf("status = %+v, %v", st, err)
				}

				// Changing an applied statement makes --resume refuse.
				changed := newRepo(t, map[string]string{
					"001_a_default_upgrade.sql": files["001_a_default_upgrade.sql"],
					"002_b_default_upgrade.sql": strings.Replace(broken, "t2 (id INTEGER)", "t2 (id BIGINT)", 1),
				})
				_, err = newMigrator(t, tdb, changed).Upgrade(ctx, ratchet.Latest, ratchet.Resume())
				var re *ratchet.ResumeError
				if !errors.As(err, &re) || re.Statement != 1 {
					t.Fatalf("resume with a changed applied statement: %v, want ResumeError on statement 1", err)
				}

				// --retry reruns statement 1, which fails now: the table exists.
				_, err = m.Upgrade(ctx, ratchet.Latest, ratchet.Retry())
				if !errors.As(err, &se) || se.Line != 1+len(strings.Split(header, "\n"))-1 {
					t.Fatalf("retry: %v, want statement 1 to fail again", err)
				}

				// Fix the failing statement and resume at it.
				fixed := newRepo(t, map[string]string{
					"001_a_default_upgrade.sql": files["001_a_default_upgrade.sql"],
					"002_b_default_upgrade.sql": strings.Replace(broken, "nope", "t1", 1),
				})
				fm := newMigrator(t, tdb, fixed)
				if _, err := fm.Upgrade(ctx, ratchet.Latest); !errors.As(err, &sv) {
					t.Fatalf("after the fix, without --resume: %v, want a refusal", err)
				}
				// The failed --retry left statement 1 applied by the first run in place, so
				// running the version from scratch needs the operator to undo it first.
				if _, err := tdb.DB.Exec("DROP TABLE t2"); err != nil {
					t.Fatal(err)
				}
				res, err := fm.Upgrade(ctx, ratchet.Latest, ratchet.Retry())
				if err != nil || res.End != 2 || len(res.Applied) != 1 || res.Applied[0].Statements != 4 {
					t.Fatalf("retry after cleanup = %+v, %v", res, err)
				}
				if err := tdb.DB.QueryRow("SELECT count(*) FROM t2").Scan(&rows); err != nil || rows != 1 {
					t.Errorf("t2 rows = %d, %v; want 1", rows, err)
				}
				if got := tables(t, tdb); !strings.Contains(got, "t3") {
					t.Errorf("tables %s: the last statement did not run", got)
				}
			})
		})
	}
}

func TestJournalResumeContinuesAfterTheAppliedStatements(t *testing.T) {
	journalled(t, false, func(t *testing.T, tdb *testdb.DB) {
		ctx := context.Background()
		broken := "CREATE TABLE t2 (id INTEGER);\nINSERT INTO t2 (id) VALUES (1);\nINSERT INTO nope (id) VALUES (2);\nCREATE TABLE t3 (id INTEGER);"
		m := newMigrator(t, tdb, newRepo(t, map[string]string{"001_b_default_upgrade.sql": broken}))
		if _, err := m.Upgrade(ctx, ratchet.Latest); err == nil {
			t.Fatal("the broken script succeeded")
		}
		fixed := newMigrator(t, tdb, newRepo(t, map[string]string{"001_b_default_upgrade.sql": strings.Replace(broken, "nope", "t2", 1)}))
		// The CREATE TABLE committed on its own; the failure rolled back the INSERTs, which
		// share a transaction with their journal entry.
		res, err := fixed.Upgrade(ctx, ratchet.Latest, ratchet.Resume())
		if err != nil || res.End != 1 || res.Applied[0].Statements != 4 {
			t.Fatalf("resume = %+v, %v; want the version's 4 statements counted", res, err)
		}
		var counted int
		if err := tdb.DB.QueryRow("SELECT statements FROM ratchet_history WHERE version = 1").Scan(&counted); err != nil || counted != 4 {
			t.Errorf("history counts %d statements, %v; want all 4 of the version", counted, err)
		}
		var rows int
		if err := tdb.DB.QueryRow("SELECT count(*) FROM t2").Scan(&rows); err != nil || rows != 2 {
			t.Errorf("t2 rows = %d, %v; want 2 (each INSERT once)", rows, err)
		}
		if got := tables(t, tdb); got != "migrate_version,ratchet_history,ratchet_journal,t2,t3" {
			t.Errorf("tables = %s", got)
		}
		// The journal row is gone: a new run is a no-op.
		if res, err := fixed.Upgrade(ctx, ratchet.Latest); err != nil || len(res.Applied) != 0 {
			t.Errorf("after resume: %+v, %v", res, err)
		}
	})
}

func TestNoTransactionScript(t *testing.T) {
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		ctx := context.Background()
		index := "CREATE INDEX ix_t1_id ON t1 (id);"
		if tdb.Dialect.Name() == "postgresql" {
			// Refused inside a transaction block: proves the script runs outside one.
			index = "CREATE INDEX CONCURRENTLY ix_t1_id ON t1 (id);"
		}
		m := newMigrator(t, tdb, newRepo(t, map[string]string{
			"001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);",
			"002_b_default_upgrade.sql": "-- ratchet:no-transaction\n" + index,
		}))
		res, err := m.Upgrade(ctx, ratchet.Latest)
		if err != nil || res.End != 2 {
			t.Fatalf("upgrade = %+v, %v", res, err)
		}
	})
}

func TestSanityCheck(t *testing.T) {
	conformance(t, func(t *testing.T, tdb *testdb.DB) {
		if tdb.Dialect.SanityCheck() == "" {
			t.Skip("the utf8 collation check is MySQL's")
		}
		ctx := context.Background()
		for _, stmt := range []string{
			"CREATE TABLE t_latin1 (id INTEGER) DEFAULT CHARSET=latin1",
			"CREATE TABLE t_utf8 (id INTEGER) DEFAULT CHARSET=utf8mb4",
		} {
			if _, err := tdb.DB.Exec(stmt); err != nil {
				t.Fatal(err)
			}
		}
		m := newMigrator(t, tdb, newRepo(t, map[string]string{"001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);"}))
		if err := m.VersionControl(ctx, 0); err != nil {
			t.Fatal(err)
		}
		_, err := m.Upgrade(ctx, ratchet.Latest)
		var se *ratchet.SanityError
		if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), `Tables "t_latin1" have non utf8 collation`) {
			t.Fatalf("err = %v, want the sanity error naming t_latin1 only", err)
		}
		if v, _ := m.Version(ctx); v != 0 {
			t.Fatalf("version = %d: the check must run before anything", v)
		}
		if _, err := m.Upgrade(ctx, ratchet.Latest, ratchet.SkipSanityCheck()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRecoveredVersionThatNowRunsInOneTransaction: a no-transaction version stops part way;
// its script is then fixed and loses the marker. --retry runs it in the journalled path
// still, and its completion clears the journal.
func TestRecoveredVersionThatNowRunsInOneTransaction(t *testing.T) {
	ctx := context.Background()
	tdb := testdb.New(t, "sqlite")
	broken := "-- ratchet:no-transaction\nCREATE TABLE t1 (id INTEGER);\nINSERT INTO nope VALUES (1);"
	if _, err := newMigrator(t, tdb, newRepo(t, map[string]string{"001_a_default_upgrade.sql": broken})).Upgrade(ctx, ratchet.Latest); err == nil {
		t.Fatal("the broken script succeeded")
	}
	if _, err := tdb.DB.Exec("DROP TABLE t1"); err != nil {
		t.Fatal(err)
	}
	fixed := newMigrator(t, tdb, newRepo(t, map[string]string{"001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);\nINSERT INTO t1 VALUES (1);"}))
	if _, err := fixed.Upgrade(ctx, ratchet.Latest, ratchet.Atomic(), ratchet.Retry()); !errors.Is(err, ratchet.ErrNotAtomic) {
		t.Fatalf("--atomic --retry = %v, want ErrNotAtomic", err)
	}
	if res, err := fixed.Upgrade(ctx, ratchet.Latest, ratchet.Retry()); err != nil || res.End != 1 {
		t.Fatalf("retry = %+v, %v", res, err)
	}
	if res, err := fixed.Upgrade(ctx, ratchet.Latest); err != nil || len(res.Applied) != 0 {
		t.Fatalf("after the retry: %+v, %v; want nothing to do and no stopped version", res, err)
	}
	st, err := fixed.Status(ctx)
	if err != nil || st.Stopped() != nil || st.Versions[0].State != ratchet.Applied {
		t.Fatalf("status = %+v, %v", st, err)
	}
}

// TestJournalledFirstStatementFails: when the first statement of a fresh attempt fails,
// nothing of the version is applied, so it fails as a version run in one transaction does:
// no journal is left behind and the next run tries it again. On MySQL the version's journal
// row waits for that statement's implicit commit; a syntax error comes before the commit,
// an existing table after it.
func TestJournalledFirstStatementFails(t *testing.T) {
	for name, first := range map[string]string{"syntax error": "CREATE TABLEX t2 (id INTEGER);", "run-time error": "CREATE TABLE t1 (id INTEGER);"} {
		t.Run(name, func(t *testing.T) {
			journalled(t, false, func(t *testing.T, tdb *testdb.DB) {
				ctx := context.Background()
				files := map[string]string{
					"001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);",
					"002_b_default_upgrade.sql": first + "\nCREATE TABLE t3 (id INTEGER);",
				}
				m := newMigrator(t, tdb, newRepo(t, files))
				_, err := m.Upgrade(ctx, ratchet.Latest)
				var se *ratchet.ScriptError
				if !errors.As(err, &se) || se.Journalled || se.Version != 2 || se.Line != 1 {
					t.Fatalf("err = %v (%+v), want a ScriptError for line 1 of version 2, not journalled", err, se)
				}
				versionLeftNoTrace(t, tdb)
				files["002_b_default_upgrade.sql"] = "CREATE TABLE t2 (id INTEGER);\nCREATE TABLE t3 (id INTEGER);"
				if _, err := newMigrator(t, tdb, newRepo(t, files)).Upgrade(ctx, ratchet.Latest); err != nil {
					t.Fatalf("the fixed version: %v", err)
				}
				if v, _ := m.Version(ctx); v != 2 {
					t.Fatalf("version = %d, want 2", v)
				}
			})
		})
	}
}

// TestMySQLCallerDSNWithoutMultiStatements: a caller's own pool may not take several
// statements, or arguments in them, per Exec; the Migrator then sends them one by one and
// still journals, fails and resumes as it does on ratchet's own DSN.
func TestMySQLCallerDSNWithoutMultiStatements(t *testing.T) {
	for _, opts := range []string{"?multiStatements=false", "?interpolateParams=false"} {
		t.Run(opts, func(t *testing.T) {
			ctx := context.Background()
			tdb := testdb.New(t, "mysql")
			db := testdb.Open(t, tdb.URL+opts)
			files := map[string]string{
				"001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);\nINSERT INTO t1 (id) VALUES (1);\nINSERT INTO t1 (id) VALUES (2);",
				"002_b_default_upgrade.sql": "CREATE TABLE t2 (id INTEGER);\nINSERT INTO t2 (id) VALUES (1);\nINSERT INTO nope (id) VALUES (2);",
			}
			m, err := ratchet.New(db, tdb.Dialect, newRepo(t, files), ratchet.WithDriver(tdb.Driver))
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.Upgrade(ctx, ratchet.Latest)
			var se *ratchet.ScriptError
			if !errors.As(err, &se) || !se.Journalled || se.Version != 2 || se.Applied != 1 || se.Line != 3 {
				t.Fatalf("err = %v (%+v), want a journalled ScriptError at line 3 of version 2 after 1 statement", err, se)
			}
			files["002_b_default_upgrade.sql"] = strings.Replace(files["002_b_default_upgrade.sql"], "nope", "t2", 1)
			if m, err = ratchet.New(db, tdb.Dialect, newRepo(t, files), ratchet.WithDriver(tdb.Driver)); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Upgrade(ctx, ratchet.Latest, ratchet.Resume()); err != nil {
				t.Fatalf("--resume: %v", err)
			}
			var rows int
			if err := db.QueryRow("SELECT (SELECT count(*) FROM t1) + (SELECT count(*) FROM t2)").Scan(&rows); err != nil || rows != 4 {
				t.Errorf("t1 and t2 hold %d rows, %v; want 4", rows, err)
			}
			if v, _ := m.Version(ctx); v != 2 {
				t.Errorf("version = %d, want 2", v)
			}
		})
	}
}

// TestMySQLInterruptBeforeFirstDDL: an interruption after the version's journal row was
// claimed but before its first DDL ran (and committed the claim) leaves nothing behind: no
// journal, no open transaction on the pool's connection, and the next run applies the version.
func TestMySQLInterruptBeforeFirstDDL(t *testing.T) {
	tdb := testdb.New(t, "mysql")
	files := map[string]string{
		"001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);",
		"002_b_default_upgrade.sql": "CREATE TABLE t2 (id INTEGER);\nINSERT INTO t2 (id) VALUES (1);",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := ratchet.New(tdb.DB, tdb.Dialect, newRepo(t, files), ratchet.WithDriver(tdb.Driver), ratchet.WithEvents(func(e ratchet.Event) {
		if e.Kind == ratchet.VersionStarted && e.Version == 2 {
			cancel()
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Upgrade(ctx, ratchet.Latest); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("err = %v, want an interruption that rolled the version back", err)
	}
	versionLeftNoTrace(t, tdb)
	if _, err := newMigrator(t, tdb, newRepo(t, files)).Upgrade(context.Background(), ratchet.Latest); err != nil {
		t.Fatalf("the next run: %v", err)
	}
}

// versionLeftNoTrace checks, on MySQL, that a version that did not start left no journal
// row and no session of the database inside a transaction.
func versionLeftNoTrace(t *testing.T, tdb *testdb.DB) {
	t.Helper()
	var rows int
	if err := tdb.DB.QueryRow("SELECT count(*) FROM ratchet_journal").Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("ratchet_journal holds %d rows, %v; want none", rows, err)
	}
	open := "SELECT count(*) FROM information_schema.innodb_trx t JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id WHERE p.db = DATABASE()"
	if err := tdb.DB.QueryRow(open).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("%d transactions left open, %v; want none", rows, err)
	}
}

// TestMySQLFailedFinishIsJournalled: when every statement of a journalled version ran but its
// bookkeeping could not be written (here the version row was moved by a tool that does not
// take ratchet's lock), the journal records all statements as applied, so that --resume
// finishes the version instead of running its DDL again.
func TestMySQLFailedFinishIsJournalled(t *testing.T) {
	tdb := testdb.New(t, "mysql")
	ctx := context.Background()
	files := map[string]string{
		"001_a_default_upgrade.sql": "CREATE TABLE t1 (id INTEGER);",
		"002_b_default_upgrade.sql": "INSERT INTO t1 (id) VALUES (1);\nCREATE TABLE t2 (id INTEGER);",
	}
	m, err := ratchet.New(tdb.DB, tdb.Dialect, newRepo(t, files), ratchet.WithDriver(tdb.Driver), ratchet.WithEvents(func(e ratchet.Event) {
		if e.Kind == ratchet.VersionStarted && e.Version == 2 {
			if _, err := tdb.DB.Exec("UPDATE migrate_version SET version = 99"); err != nil {
				t.Error(err)
			}
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Upgrade(ctx, ratchet.Latest); !errors.Is(err, versiontable.ErrConcurrentUpdate) {
		t.Fatalf("err = %v, want ErrConcurrentUpdate", err)
	}
	j, err := versiontable.New(tdb.Dialect, tdb.Schema(), "migrate_version", "test_repo").ReadJournal(ctx, tdb.DB)
	if err != nil || j == nil || j.Version != 2 || j.Done() != 2 || j.Total != 2 {
		t.Fatalf("journal = %+v, %v; want version 2 with both statements applied", j, err)
	}
	if _, err := tdb.DB.Exec("UPDATE migrate_version SET version = 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := newMigrator(t, tdb, newRepo(t, files)).Upgrade(ctx, ratchet.Latest, ratchet.Resume()); err != nil {
		t.Fatalf("--resume: %v", err)
	}
	var rows int
	if err := tdb.DB.QueryRow("SELECT count(*) FROM t1").Scan(&rows); err != nil || rows != 1 {
		t.Errorf("t1 holds %d rows, %v; want 1 (the INSERT ran once)", rows, err)
	}
}

// TestInFlightStatementNeedsTheOperatorsWord: a statement that commits by itself and was
// running when the process died may or may not have taken effect. Resuming is refused until
// the operator says which; each answer does what it says, and nothing recorded as applied
// runs again.
func TestInFlightStatementNeedsTheOperatorsWord(t *testing.T) {
	for _, completed := range []bool{true, false} {
		name := "completed"
		if !completed {
			name = "not completed"
		}
		t.Run(name, func(t *testing.T) {
			journalled(t, true, func(t *testing.T, tdb *testdb.DB) {
				ctx := context.Background()
				script := "-- ratchet:no-transaction\nCREATE TABLE a1 (id INTEGER);\nCREATE TABLE a2 (id INTEGER);\nCREATE TABLE a3 (id INTEGER);"
				broken := strings.Replace(script, "a2 (id INTEGER)", "a2 (id INTEGER, nope)", 1)
				if tdb.Dialect.Name() == "sqlite" {
					broken = strings.Replace(script, "CREATE TABLE a2 (id INTEGER)", "CREATE TABLE a2 (id INTEGER) nope", 1)
				}
				m := newMigrator(t, tdb, newRepo(t, map[string]string{"001_a_default_upgrade.sql": broken}))
				if _, err := m.Upgrade(ctx, ratchet.Latest); err == nil {
					t.Fatal("the broken script succeeded")
				}
				// What a kill during statement 2 leaves: statement 1 applied, 2 in flight.
				if _, err := tdb.DB.Exec("UPDATE ratchet_journal SET error = NULL, failed_line = 0, running = 2"); err != nil {
					t.Fatal(err)
				}
				if completed {
					if _, err := tdb.DB.Exec("CREATE TABLE a2 (id INTEGER)"); err != nil {
						t.Fatal(err)
					}
				}
				fixed := newMigrator(t, tdb, newRepo(t, map[string]string{"001_a_default_upgrade.sql": script}))
				for _, opts := range [][]ratchet.UpgradeOption{nil, {ratchet.Resume()}} {
					_, err := fixed.Upgrade(ctx, ratchet.Latest, opts...)
					var sv *ratchet.StoppedVersionError
					if !errors.As(err, &sv) || sv.InFlight != 2 || sv.Applied != 1 || sv.Failed != 0 || sv.NextStatement(true) != 3 {
						t.Fatalf("with %d options: %v (%+v); want the in-flight statement 2 named", len(opts), err, sv)
					}
				}
				res, err := fixed.Upgrade(ctx, ratchet.Latest, ratchet.Resume(), ratchet.InFlight(completed))
				if err != nil || len(res.Applied) != 1 || res.Applied[0].Statements != 3 {
					t.Fatalf("resume, in flight completed=%v: %+v, %v", completed, res, err)
				}
				if got := tables(t, tdb); got != "a1,a2,a3,migrate_version,ratchet_history,ratchet_journal" {
					t.Errorf("tables = %s", got)
				}
			})
		})
	}
}
