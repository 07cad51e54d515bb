package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// casesRepo writes a repository with files (name → content) under versions/ and returns its
// directory and an SQLite database URL beside it.
func casesRepo(t *testing.T, files map[string]string) (repo, url string) {
	t.Helper()
	dir := t.TempDir()
	repo = filepath.Join(dir, "repo")
	if err := os.MkdirAll(filepath.Join(repo, "versions"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "migrate.cfg"), []byte("[db_settings]\nrepository_id=r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(repo, "versions", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return repo, "sqlite:///" + filepath.Join(dir, "app.db")
}

// TestRollingOnlineBlockAfterByteOrderMark: an expand script saved with a UTF-8 byte order
// mark and an online block runs like the same script without the mark.
func TestRollingOnlineBlockAfterByteOrderMark(t *testing.T) {
	const expand = "CREATE TABLE t (a INTEGER);\n" +
		"-- ratchet:online begin\n" +
		"CREATE TRIGGER ratchet_v001_t_ai AFTER INSERT ON t BEGIN SELECT 1; END;\n" +
		"-- ratchet:online end\n"
	const contract = "DROP TRIGGER IF EXISTS ratchet_v001_t_ai;\n"
	for _, bom := range []string{"", "\uFEFF"} {
		repo, url := casesRepo(t, map[string]string{
			"001_a_default_expand.sql":   bom + expand,
			"001_a_default_contract.sql": contract,
		})
		res := runRatchet(t, "--repository", repo, "--database", url, "db", "expand")
		if res.code != 0 {
			t.Errorf("byte order mark %q: %s\nwant exit 0", bom, res)
		}
	}
}

// TestRollingCheckSeesExpandModifiedInWindow: an expand part that ran and was then edited is
// an applied script modified, which db check reports with exit 1, also while the window that
// ran it is open.
func TestRollingCheckSeesExpandModifiedInWindow(t *testing.T) {
	repo, url := casesRepo(t, map[string]string{
		"001_a_default_upgrade.sql":  "CREATE TABLE t (a INTEGER);\n",
		"002_b_default_expand.sql":   "ALTER TABLE t ADD COLUMN b INTEGER;\n",
		"002_b_default_contract.sql": "CREATE INDEX t_b ON t (b);\n",
	})
	run := wantExit(t, ratchetOn(t, repo, url))
	run(0, "db", "sync", "1")
	run(0, "db", "expand")
	run(0, "db", "migrate")
	run(5, "db", "check")
	path := filepath.Join(repo, "versions", "002_b_default_expand.sql")
	if err := os.WriteFile(path, []byte("ALTER TABLE t ADD COLUMN c INTEGER;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(1, "db", "check")
}

// TestRollingRefusedPhaseCreatesNoDatabase: a phase command refused before anything runs — a
// version the repository lacks, a migrate or contract before any expand — leaves a database
// that does not exist as it found it: not created.
func TestRollingRefusedPhaseCreatesNoDatabase(t *testing.T) {
	repo, url := casesRepo(t, map[string]string{
		"001_a_default_expand.sql":   "CREATE TABLE t (a INTEGER);\n",
		"001_a_default_contract.sql": "CREATE INDEX t_a ON t (a);\n",
	})
	file := strings.TrimPrefix(url, "sqlite:///")
	for _, c := range []struct {
		code int
		args []string
	}{
		{2, []string{"db", "expand", "99"}},
		{1, []string{"db", "migrate"}},
		{1, []string{"db", "contract"}},
	} {
		res := runRatchet(t, append([]string{"--repository", repo, "--database", url}, c.args...)...)
		if res.code != c.code {
			t.Errorf("%s\nwant exit %d", res, c.code)
		}
		if _, err := os.Stat(file); err == nil {
			t.Errorf("%s: created %s", strings.Join(c.args, " "), file)
			os.Remove(file)
		}
	}
}

// TestRollingMigrateAsksPendingOfOneShotScript: a migrate script with a pending query but no
// repeat would run once, and while its pending query still found rows db migrate would say
// the data migrations are done (exit 0) and db check send the operator back to it (exit 4).
// Such a script is refused before anything of its window runs (exit 2, naming file:line).
func TestRollingMigrateAsksPendingOfOneShotScript(t *testing.T) {
	repo, url := casesRepo(t, map[string]string{
		"001_a_default_upgrade.sql": "CREATE TABLE t (a INTEGER);\nINSERT INTO t VALUES (1);\n",
		"002_b_default_expand.sql":  "ALTER TABLE t ADD COLUMN b INTEGER;\n",
		// The statement leaves the rows the pending query finds (a NULL a).
		"002_b_default_migrate.sql":  "-- ratchet:pending SELECT 1 FROM t WHERE b IS NULL\nUPDATE t SET b = a;\n",
		"002_b_default_contract.sql": "CREATE INDEX t_b ON t (b);\n",
	})
	run := ratchetOn(t, repo, url)
	if res := run("db", "sync", "1"); res.code != 0 {
		t.Fatalf("%s\nwant exit 0", res)
	}
	if res := run("db", "expand"); res.code != 2 || !strings.Contains(res.stderr, "versions/002_b_default_migrate.sql:1: -- ratchet:pending goes with -- ratchet:repeat") {
		t.Fatalf("%s\nwant the one-shot script with a pending query refused (exit 2, file:line)", res)
	}
	if res := run("db", "version"); strings.TrimSpace(res.stdout) != "1" {
		t.Fatalf("db version after the refusal = %q; want 1", res.stdout)
	}
	// The old release writes a row the script could not migrate; the commands still agree:
	// nothing is expanded, so migrate refuses and check sends the operator to expand.
	sqliteExec(t, strings.TrimPrefix(url, "sqlite:///"), "INSERT INTO t (a) VALUES (NULL)")
	migrate := run("db", "migrate")
	check := run("db", "check")
	if migrate.code == 0 && check.code == 4 {
		t.Fatalf("db migrate says the data migrations are done:\n%s\nbut db check sends back to db migrate:\n%s", migrate, check)
	}
	if migrate.code != 1 || check.code != 3 {
		t.Errorf("db migrate exited %d and db check %d after the refused expand; want 1 (before expansion) and 3 (expand next)\n%s\n%s", migrate.code, check.code, migrate, check)
	}
}

// sqliteExec runs a statement on an SQLite file.
func sqliteExec(t *testing.T, path, query string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query); err != nil {
		t.Fatal(err)
	}
}

// TestRollingTimestampRollingVersionEmptyOnDialect: in a timestamp-numbered repository, a
// rolling version with no part for this database (its scripts are for another one) is
// applied by the three phases without a history row; the next offline upgrade must not take
// it for a version merged below the current one and never applied.
func TestRollingTimestampRollingVersionEmptyOnDialect(t *testing.T) {
	repo, url := casesRepo(t, map[string]string{
		"20240101000000_a_default_upgrade.sql":   "CREATE TABLE t (a INTEGER);\n",
		"20240102000000_b_postgresql_expand.sql": "CREATE INDEX CONCURRENTLY t_a ON t (a);\n",
		"20240103000000_c_default_upgrade.sql":   "CREATE TABLE u (a INTEGER);\n",
	})
	if err := os.WriteFile(filepath.Join(repo, "migrate.cfg"), []byte("[db_settings]\nrepository_id=r\nuse_timestamp_numbering=True\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"db", "sync", "20240101000000"},
		{"db", "expand"},
		{"db", "migrate"},
		{"db", "contract"},
		{"db", "sync"},
	} {
		res := runRatchet(t, append([]string{"--repository", repo, "--database", url}, args...)...)
		if res.code != 0 {
			t.Fatalf("%s\nwant exit 0", res)
		}
	}
}

// TestRollingCheckWhileExpandRunsMySQL: while db expand runs on MySQL/MariaDB, whose expand
// parts are journalled statement by statement, db check says the expand phase is next (3),
// not that a part stopped and needs --resume or --retry (1).
func TestRollingCheckWhileExpandRunsMySQL(t *testing.T) {
	tdb := testdb.New(t, "mysql")
	repo, _ := casesRepo(t, map[string]string{
		"001_a_default_upgrade.sql":  "CREATE TABLE t (a INTEGER);\n",
		"002_b_default_expand.sql":   "ALTER TABLE t ADD COLUMN b INTEGER;\nSELECT SLEEP(4);\nALTER TABLE t ADD COLUMN c INTEGER;\n",
		"002_b_default_contract.sql": "ALTER TABLE t DROP COLUMN a;\n",
	})
	args := func(a ...string) []string { return append([]string{"--repository", repo, "--database", tdb.URL}, a...) }
	if res := runRatchet(t, args("db", "sync", "1")...); res.code != 0 {
		t.Fatalf("%s\nwant exit 0", res)
	}
	cmd, stdout, stderr := startRatchet(t, args("db", "expand")...)
	time.Sleep(2 * time.Second)
	check := runRatchet(t, args("db", "check")...)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("db expand: %v\n%s\n%s", err, stdout, stderr)
	}
	if check.code != 3 {
		t.Errorf("db check while db expand runs:\n%s\nwant exit 3", check)
	}
}

// TestRollingOnlineResumeOfOfflineExpand: an expand part that db sync ran offline (its online
// block skipped) and that stopped part way is resumed online by db expand --resume, as the
// error says; the resumed window must not rely on a trigger nothing created: db check then
// says the migrate phase is next (4), not that a trigger is missing (1).
func TestRollingOnlineResumeOfOfflineExpand(t *testing.T) {
	const expand = "-- ratchet:no-transaction\n" +
		"ALTER TABLE t ADD COLUMN b INTEGER;\n" +
		"-- ratchet:online begin\n" +
		"CREATE TRIGGER ratchet_v002_t_ai AFTER INSERT ON t BEGIN UPDATE t SET b = NEW.a WHERE rowid = NEW.rowid; END;\n" +
		"-- ratchet:online end\n"
	repo, url := casesRepo(t, map[string]string{
		"001_a_default_upgrade.sql":  "CREATE TABLE t (a INTEGER);\n",
		"002_b_default_expand.sql":   expand + "INSERT INTO missing VALUES (1);\n",
		"002_b_default_contract.sql": "DROP TRIGGER IF EXISTS ratchet_v002_t_ai;\n",
	})
	run := wantExit(t, ratchetOn(t, repo, url))
	run(0, "db", "sync", "1")
	run(1, "db", "sync") // stops at statement 3, after the skipped online block
	if err := os.WriteFile(filepath.Join(repo, "versions", "002_b_default_expand.sql"), []byte(expand+"CREATE TABLE missing (x INTEGER);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(0, "db", "expand", "--resume")
	run(4, "db", "check")
}

// TestRollingCheckWhileContractRunsPostgreSQL: db check run while db contract drops what a
// data migration's pending query names answers with the phase (5) or up to date (0), not with
// the query's error.
func TestRollingCheckWhileContractRunsPostgreSQL(t *testing.T) {
	tdb := testdb.New(t, "postgresql")
	repo, _ := casesRepo(t, map[string]string{
		"001_a_default_upgrade.sql": "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nINSERT INTO t VALUES (1, 10), (2, 20);\n",
		"002_b_default_expand.sql":  "ALTER TABLE t ADD COLUMN c INTEGER;\n",
		"002_b_default_migrate.sql": "-- ratchet:repeat\n-- ratchet:pending SELECT 1 FROM t WHERE c IS NULL AND a IS NOT NULL\n" +
			"UPDATE t SET c = a WHERE id IN (SELECT id FROM t WHERE c IS NULL AND a IS NOT NULL LIMIT 1);\n",
		"002_b_default_contract.sql": "ALTER TABLE t DROP COLUMN a;\nSELECT pg_sleep(3);\n",
	})
	args := func(a ...string) []string { return append([]string{"--repository", repo, "--database", tdb.URL}, a...) }
	for _, a := range [][]string{{"db", "sync", "1"}, {"db", "expand"}, {"db", "migrate"}} {
		if res := runRatchet(t, args(a...)...); res.code != 0 {
			t.Fatalf("%s\nwant exit 0", res)
		}
	}
	cmd, stdout, stderr := startRatchet(t, args("db", "contract")...)
	time.Sleep(1 * time.Second) // the contract holds table t, dropped column and all
	check := runRatchet(t, args("db", "check")...)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("db contract: %v\n%s\n%s", err, stdout, stderr)
	}
	if check.code != 0 && check.code != 5 {
		t.Errorf("db check while db contract runs:\n%s\nwant exit 5 or 0", check)
	}
}

// TestRollingExpandBadVersionWhileWindowOpen: db expand VERSION with a version the repository
// lacks, or below the database's, is bad input (exit 2) also while a window is open.
func TestRollingExpandBadVersionWhileWindowOpen(t *testing.T) {
	repo, url := casesRepo(t, map[string]string{
		"001_a_default_upgrade.sql": "CREATE TABLE t (a INTEGER);\n",
		"002_b_default_expand.sql":  "ALTER TABLE t ADD COLUMN b INTEGER;\n",
		"003_c_default_expand.sql":  "ALTER TABLE t ADD COLUMN c INTEGER;\n",
	})
	run := func(want int, args ...string) {
		t.Helper()
		res := runRatchet(t, append([]string{"--repository", repo, "--database", url}, args...)...)
		if res.code != want {
			t.Errorf("%s\nwant exit %d", res, want)
		}
	}
	run(0, "db", "sync", "2")
	run(0, "db", "expand")
	run(2, "db", "expand", "99")
	run(2, "db", "expand", "1")
}

// TestRollingMaxDurationRunsABatch: --max-duration is checked after each batch, so every run
// of the documented loop `until db migrate --max-duration D; do …; done` makes progress, however
// short D is against the time the run takes to start.
func TestRollingMaxDurationRunsABatch(t *testing.T) {
	repo, url := casesRepo(t, map[string]string{
		"001_a_default_upgrade.sql": "CREATE TABLE t (a INTEGER);\nINSERT INTO t VALUES (1), (2), (3), (4), (5);\n",
		"002_b_default_expand.sql":  "ALTER TABLE t ADD COLUMN b INTEGER;\n",
		"002_b_default_migrate.sql": "-- ratchet:repeat\n-- ratchet:pending SELECT 1 FROM t WHERE b IS NULL\n" +
			"UPDATE t SET b = a WHERE rowid IN (SELECT rowid FROM t WHERE b IS NULL LIMIT 2);\n",
	})
	run := ratchetOn(t, repo, url)
	for _, args := range [][]string{{"db", "sync", "1"}, {"db", "expand"}} {
		if res := run(args...); res.code != 0 {
			t.Fatalf("%s\nwant exit 0", res)
		}
	}
	for i := 0; i < 5; i++ {
		res := run("db", "migrate", "--max-duration", "1ns")
		switch {
		case res.code == 0:
			return
		case res.code != 4 || strings.Contains(res.stdout, "Migrated 0 rows"):
			t.Fatalf("run %d:\n%s\nwant exit 4 with rows migrated, or exit 0", i+1, res)
		}
	}
	t.Fatal("5 runs of 2 rows each did not migrate 5 rows")
}

// TestRollingTimestampVersionMergedIntoOpenWindow: in a timestamp-numbered repository, a
// rolling version merged below the expanded position of an open window never had its expand
// part run; its migrate and contract parts must not run as if it had (refusing it, like a
// version merged below the current one, is fine).
func TestRollingTimestampVersionMergedIntoOpenWindow(t *testing.T) {
	repo, url := casesRepo(t, map[string]string{
		"20240101000000_a_default_upgrade.sql":  "CREATE TABLE t (a INTEGER);\n",
		"20240103000000_c_default_expand.sql":   "ALTER TABLE t ADD COLUMN c INTEGER;\n",
		"20240103000000_c_default_contract.sql": "CREATE INDEX t_c ON t (c);\n",
	})
	if err := os.WriteFile(filepath.Join(repo, "migrate.cfg"), []byte("[db_settings]\nrepository_id=r\nuse_timestamp_numbering=True\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := ratchetOn(t, repo, url)
	for _, args := range [][]string{{"db", "sync", "20240101000000"}, {"db", "expand"}} {
		if res := run(args...); res.code != 0 {
			t.Fatalf("%s\nwant exit 0", res)
		}
	}
	// A branch merged meanwhile brings a rolling version between the two.
	for name, body := range map[string]string{
		"20240102000000_b_default_expand.sql":   "CREATE TABLE two (x INTEGER);\n",
		"20240102000000_b_default_contract.sql": "CREATE INDEX t_a ON t (a);\n",
	} {
		if err := os.WriteFile(filepath.Join(repo, "versions", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"db", "migrate"}, {"db", "contract"}} {
		if res := run(args...); res.code != 0 {
			return // refused: nothing recorded that did not happen
		}
	}
	db, err := sql.Open("sqlite", strings.TrimPrefix(url, "sqlite:///"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE name = 'two'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Errorf("version 20240102000000 is recorded applied (db check: %s), but its expand part never ran: table two is missing", run("db", "check").stdout)
	}
}

// TestRollingResumeStoppedMigratePart: a migrate part journalled statement by statement (a
// no-transaction script) that stopped part way is continued by db migrate --resume, which
// leaves the contract phase to db contract: the old release still runs.
func TestRollingResumeStoppedMigratePart(t *testing.T) {
	const migrate = "-- ratchet:no-transaction\nUPDATE t SET b = a;\n"
	repo, url := casesRepo(t, map[string]string{
		"001_a_default_upgrade.sql":  "CREATE TABLE t (a INTEGER);\nINSERT INTO t VALUES (1);\n",
		"002_b_default_expand.sql":   "ALTER TABLE t ADD COLUMN b INTEGER;\n",
		"002_b_default_migrate.sql":  migrate + "INSERT INTO missing VALUES (1);\n",
		"002_b_default_contract.sql": "CREATE INDEX t_b ON t (b);\n",
	})
	run := wantExit(t, ratchetOn(t, repo, url))
	run(0, "db", "sync", "1")
	run(0, "db", "expand")
	res := run(1, "db", "migrate")
	if strings.Contains(res.stderr, "db sync") {
		t.Errorf("%s\nthe hint sends a stopped migrate part to db sync, which would contract while the old release runs", res)
	}
	if err := os.WriteFile(filepath.Join(repo, "versions", "002_b_default_migrate.sql"), []byte(migrate+"UPDATE t SET b = b + 1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(0, "db", "migrate", "--resume")
	run(5, "db", "check")
}

// TestRollingPendingQueryMustOnlyRead: -- ratchet:pending takes a query that finds work left;
// one that writes (here a DELETE) is bad input, refused before anything runs (exit 2), and
// db check, which writes nothing, never runs it.
func TestRollingPendingQueryMustOnlyRead(t *testing.T) {
	repo, url := casesRepo(t, map[string]string{
		"001_a_default_upgrade.sql": "CREATE TABLE t (a INTEGER);\nINSERT INTO t VALUES (1), (2);\n",
		"002_b_default_expand.sql":  "ALTER TABLE t ADD COLUMN b INTEGER;\n",
		"002_b_default_migrate.sql": "-- ratchet:pending DELETE FROM t\nUPDATE t SET b = a;\n",
	})
	run := ratchetOn(t, repo, url)
	run("db", "sync", "1")
	expand := run("db", "expand")
	run("db", "check")
	run("db", "migrate")
	run("db", "check")
	db, err := sql.Open("sqlite", strings.TrimPrefix(url, "sqlite:///"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d rows of 2 left in t: the pending query deleted them", n)
	}
	if expand.code != 2 {
		t.Errorf("%s\nwant exit 2: the pending query writes", expand)
	}
}

// ratchetOn returns a function that runs the binary on repo and the database url.
func ratchetOn(t *testing.T, repo, url string) func(args ...string) cmdResult {
	return func(args ...string) cmdResult {
		return runRatchet(t, append([]string{"--repository", repo, "--database", url}, args...)...)
	}
}

// wantExit returns run with a first argument, the exit code the command must end with: the
// test stops, showing what it printed, when it does not.
func wantExit(t *testing.T, run func(args ...string) cmdResult) func(want int, args ...string) cmdResult {
	return func(want int, args ...string) cmdResult {
		t.Helper()
		res := run(args...)
		if res.code != want {
			t.Fatalf("%s\nwant exit %d", res, want)
		}
		return res
	}
}
