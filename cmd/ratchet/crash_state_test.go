package main

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// The crash repository. Every statement of it has an effect that can be observed, except the
// sleeps, and none can run twice unnoticed: each CREATE TABLE creates a table of its own
// (plain CREATE TABLE, so that running it again fails), and each ledger INSERT records its
// version and statement number, so that a second run shows as a second row. The sleeps
// (none on SQLite, which has no server to sleep on) stretch the versions so that kills land
// between their statements. Every third version is a `-- ratchet:no-transaction` script, on
// every dialect, so that kills land inside journalled versions on SQLite and PostgreSQL too.

const (
	crashVersions = 30 // versions in the crash repository
	crashFillRows = 10000
	crashRepoID   = "process_test" // the repository id writeRepo writes
	crashSleep    = "0.02"         // seconds each sleep statement sleeps
)

// crashKind is what a statement of the crash repository does.
type crashKind int

const (
	crashCreate crashKind = iota // creates a table
	crashPause                   // sleeps on the server: no observable effect
	crashLedger                  // records its version and statement number in the ledger
	crashFill                    // inserts crashFillRows rows into a table of its version
)

// crashStmt is one statement of a crash-repository version.
type crashStmt struct {
	kind  crashKind
	sql   string
	table string // the table it creates (crashCreate) or fills (crashFill)
}

// crashNoTx reports whether version v's script runs outside a transaction.
func crashNoTx(v int) bool { return v%3 == 0 }

// crashScript returns the statements of version v on a dialect, in order: a table, a
// pause, a ledger row, a table, a pause; every fourth version then fills its first table and
// adds a ledger row (two DML statements in a row), and every other even version ends with a
// table, so that versions end with DDL as well as DML.
func crashScript(dialectName string, v int) []crashStmt {
	var stmts []crashStmt
	add := func(kind crashKind) {
		k := len(stmts) + 1
		s := crashStmt{kind: kind}
		switch kind {
		case crashCreate:
			s.table = fmt.Sprintf("t_%d_%d", v, k)
			s.sql = "CREATE TABLE " + s.table + " (id INTEGER);"
		case crashPause:
			switch dialectName {
			case "postgresql":
				s.sql = "SELECT pg_sleep(" + crashSleep + ");"
			case "mysql":
				s.sql = "DO SLEEP(" + crashSleep + ");"
			default:
				return // SQLite cannot sleep in SQL
			}
		case crashLedger:
			s.sql = fmt.Sprintf("INSERT INTO ledger (version, stmt) VALUES (%d, %d);", v, k)
		case crashFill:
			s.table = stmts[0].table // never the ledger: version 1 does not fill
			s.sql = "INSERT INTO " + s.table + " (id)" +
				" WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100)" +
				" SELECT a.x * 1000 + b.x FROM c a, c b;"
		}
		stmts = append(stmts, s)
	}
	if v == 1 {
		stmts = append(stmts, crashStmt{kind: crashCreate, table: "ledger", sql: "CREATE TABLE ledger (version INTEGER NOT NULL, stmt INTEGER NOT NULL);"})
	}
	for _, kind := range []crashKind{crashCreate, crashPause, crashLedger, crashCreate, crashPause} {
		add(kind)
	}
	switch v % 4 {
	case 0:
		add(crashFill)
		add(crashLedger)
	case 2:
		add(crashCreate)
	}
	return stmts
}

// crashScriptPath returns the path of version v's script in the repository.
func crashScriptPath(dialectName string, v int) string {
	return fmt.Sprintf("versions/%03d_step_%s_upgrade.sql", v, dialectName)
}

// crashCommitsByItself reports whether a statement of version v commits by itself on a
// dialect, so that after a crash during it only the operator can tell whether it took
// effect: any statement of a no-transaction script, and DDL on MySQL/MariaDB.
func crashCommitsByItself(dialectName string, v int, s crashStmt) bool {
	return crashNoTx(v) || (dialectName == "mysql" && s.kind == crashCreate)
}

// crashRepo writes the crash repository: one script per version and dialect.
func crashRepo(t *testing.T) string {
	scripts := map[string]string{}
	for _, name := range testdb.Dialects {
		for v := 1; v <= crashVersions; v++ {
			var b strings.Builder
			if crashNoTx(v) {
				b.WriteString("-- ratchet:no-transaction\n")
			}
			for _, st := range crashScript(name, v) {
				b.WriteString(st.sql + "\n")
			}
			scripts[strings.TrimPrefix(crashScriptPath(name, v), "versions/")] = b.String()
		}
	}
	return writeRepo(t, scripts)
}

// crashJournal is the ratchet_journal row of a version that stopped part way.
type crashJournal struct {
	Version, Done, Total int
	Running              int // 0 when no statement was in flight
	Error                string
}

// crashState is what a database holds, as far as the crash repository is concerned.
type crashState struct {
	Version int             // recorded in migrate_version; 0 without a row
	Journal *crashJournal   // nil when no version stopped part way
	Tables  map[string]bool // tables other than ratchet's bookkeeping tables
	Ledger  map[[2]int]int  // (version, statement) → ledger rows recording it
	Filled  map[string]int  // rows in each present table that a version fills
	History map[int][]int   // version → the statement count of each of its history rows
}

// crashObserve reads the crash state of a database of the named dialect.
func crashObserve(t *testing.T, tdb *testdb.DB, dialectName string) crashState {
	t.Helper()
	st := crashState{Tables: map[string]bool{}, Ledger: map[[2]int]int{}, Filled: map[string]int{}, History: map[int][]int{}}
	names, err := testdb.Strings(tdb.DB, tdb.Dialect.ListTables(), tdb.Schema())
	if err != nil {
		t.Fatalf("listing tables: %v", err)
	}
	bookkeeping := map[string]bool{"migrate_version": true, "ratchet_history": true, "ratchet_journal": true}
	for _, n := range names {
		if !bookkeeping[n] {
			st.Tables[n] = true
		}
	}
	if slices.Contains(names, "migrate_version") {
		err := tdb.DB.QueryRow("SELECT version FROM migrate_version WHERE repository_id = '" + crashRepoID + "'").Scan(&st.Version)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("reading migrate_version: %v", err)
		}
	}
	if slices.Contains(names, "ratchet_journal") {
		var j crashJournal
		var msg sql.NullString
		err := tdb.DB.QueryRow("SELECT version, done, total, running, error FROM ratchet_journal WHERE repository_id = '"+crashRepoID+"'").
			Scan(&j.Version, &j.Done, &j.Total, &j.Running, &msg)
		switch {
		case err == nil:
			j.Error = msg.String
			st.Journal = &j
		case !errors.Is(err, sql.ErrNoRows):
			t.Fatalf("reading ratchet_journal: %v", err)
		}
	}
	if slices.Contains(names, "ratchet_history") {
		crashScan(t, tdb.DB, "SELECT version, statements FROM ratchet_history WHERE repository_id = '"+crashRepoID+"' AND version > 0", func(v, n int) {
			st.History[v] = append(st.History[v], n)
		})
	}
	if st.Tables["ledger"] {
		crashScan(t, tdb.DB, "SELECT version * 1000 + stmt, count(*) FROM ledger GROUP BY version, stmt", func(vk, n int) {
			st.Ledger[[2]int{vk / 1000, vk % 1000}] = n
		})
	}
	for v := 1; v <= crashVersions; v++ {
		for _, s := range crashScript(dialectName, v) {
			if s.kind == crashFill && st.Tables[s.table] {
				var n int
				if err := tdb.DB.QueryRow("SELECT count(*) FROM " + s.table).Scan(&n); err != nil {
					t.Fatalf("counting %s: %v", s.table, err)
				}
				st.Filled[s.table] = n
			}
		}
	}
	return st
}

// crashScan runs a query whose rows are two integers and calls fn for each.
func crashScan(t *testing.T, db *sql.DB, query string, fn func(a, b int)) {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	for rows.Next() {
		var a, b int
		if err := rows.Scan(&a, &b); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		fn(a, b)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// effect reports whether the database shows that statement k (1-based) of version v, s,
// took effect, and whether that can be seen at all (a pause leaves nothing to see).
func (st crashState) effect(v, k int, s crashStmt) (applied, observable bool) {
	switch s.kind {
	case crashCreate:
		return st.Tables[s.table], true
	case crashLedger:
		return st.Ledger[[2]int{v, k}] > 0, true
	case crashFill:
		return st.Filled[s.table] > 0, true
	}
	return false, false
}

// inFlight returns the statement the journal records in flight, if any.
func (st crashState) inFlight(dialectName string) (crashStmt, bool) {
	j := st.Journal
	if j == nil || j.Running == 0 || st.staleRunning() {
		return crashStmt{}, false
	}
	return crashScript(dialectName, j.Version)[j.Running-1], true
}

// staleRunning reports whether the journal names as running the statement it also counts
// as applied, the last one: a record that contradicts itself, although the message derived
// from it (interrupted after that statement) is right. The check functions report it
// separately from [crashState.mismatch], so that a kill sequence that meets it goes on.
func (st crashState) staleRunning() bool {
	j := st.Journal
	return j != nil && j.Running != 0 && j.Running == j.Done
}

// mismatch returns what in the state contradicts its recorded version and journal, or "".
// Versions 1..Version must be applied exactly, each with one history row counting all its
// statements, and nothing of later versions, except for the version the journal names: its
// statements 1..done are applied exactly once, and the statement it records in flight, which
// must be the next one and one that commits by itself, may or may not have taken effect
// (whole: a fill has all its rows or none); nothing after it is applied.
func (st crashState) mismatch(dialectName string) string {
	var problems []string
	done := map[int]int{} // version → statements applied; absent means none
	for v := 1; v <= min(st.Version, crashVersions); v++ {
		done[v] = len(crashScript(dialectName, v))
	}
	var running [2]int // (version, statement) in flight
	if j := st.Journal; j != nil {
		stmts := crashScript(dialectName, j.Version)
		switch {
		case j.Version != st.Version+1:
			problems = append(problems, fmt.Sprintf("the journal names version %d, but version %d is recorded", j.Version, st.Version))
		case j.Total != len(stmts) || j.Done > len(stmts):
			problems = append(problems, fmt.Sprintf("the journal says %d of %d statements of version %d ran; it has %d", j.Done, j.Total, j.Version, len(stmts)))
		default:
			done[j.Version] = j.Done
			if j.Running != 0 && !st.staleRunning() {
				if j.Running != j.Done+1 || !crashCommitsByItself(dialectName, j.Version, stmts[j.Running-1]) {
					problems = append(problems, fmt.Sprintf("the journal records statement %d of version %d in flight after %d applied; only the next statement can be, and only one that commits by itself",
						j.Running, j.Version, j.Done))
				} else {
					running = [2]int{j.Version, j.Running}
				}
			}
		}
		if j.Error != "" {
			problems = append(problems, fmt.Sprintf("the journal records an error %q, but the run was killed or interrupted", j.Error))
		}
	}
	wantTables := map[string]bool{}
	wantLedger := map[[2]int]int{}
	wantFilled := map[string]int{}
	wantHistory := map[int][]int{}
	for v := 1; v <= crashVersions; v++ {
		stmts := crashScript(dialectName, v)
		if v <= st.Version {
			wantHistory[v] = []int{len(stmts)}
		}
		for i, s := range stmts {
			k := i + 1
			applied := k <= done[v]
			if running == [2]int{v, k} {
				applied, _ = st.effect(v, k, s) // either is consistent with the journal
			}
			switch {
			case s.kind == crashCreate && applied:
				wantTables[s.table] = true
			case s.kind == crashLedger && applied:
				wantLedger[[2]int{v, k}] = 1
			case s.kind == crashFill && applied:
				wantFilled[s.table] = crashFillRows
			case s.kind == crashFill && st.Tables[s.table]:
				wantFilled[s.table] = 0
			}
		}
	}
	for _, d := range []struct {
		what      string
		want, got any
	}{
		{"tables", wantTables, st.Tables},
		{"ledger rows per (version, statement)", wantLedger, st.Ledger},
		{"rows in filled tables", wantFilled, st.Filled},
		{"statement counts of the history rows per version", wantHistory, st.History},
	} {
		if diff := cmp.Diff(d.want, d.got); diff != "" {
			problems = append(problems, d.what+" (-want +got):\n"+diff)
		}
	}
	return strings.Join(problems, "\n")
}

// String summarises the state for failure messages.
func (st crashState) String() string {
	s := fmt.Sprintf("version %d, %d tables, %d ledger rows", st.Version, len(st.Tables), len(st.Ledger))
	if j := st.Journal; j != nil {
		s += fmt.Sprintf(", journal: version %d, %d of %d statements done, running %d, error %q", j.Version, j.Done, j.Total, j.Running, j.Error)
	}
	return s
}

// crashStoppedMessage returns what a refused `db sync` must say about the version the
// journal j records as stopped by a kill: how its stderr starts, and the choices it gives.
func crashStoppedMessage(dialectName string, j *crashJournal) (prefix string, choices []string) {
	script := crashScriptPath(dialectName, j.Version)
	if k := j.Running; k > j.Done {
		return fmt.Sprintf("ratchet: version %d was interrupted while statement %d of %d (%s) was running; it commits by itself, so it may or may not have taken effect",
				j.Version, k, j.Total, script),
			[]string{
				fmt.Sprintf("check whether statement %d took effect, then run `db sync --resume --in-flight=completed` to continue at statement %d, or `db sync --resume --in-flight=not-completed` to run statement %d again",
					k, k+1, k),
				fmt.Sprintf("`db sync --retry` to run version %d again from statement 1", j.Version),
			}
	}
	return fmt.Sprintf("ratchet: version %d was interrupted after statement %d of %d (%s)", j.Version, j.Done, j.Total, script),
		[]string{
			fmt.Sprintf("run `db sync --resume` to continue at statement %d or `db sync --retry` to run version %d again from statement 1", j.Done+1, j.Version),
		}
}
