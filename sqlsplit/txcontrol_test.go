package sqlsplit

import "testing"

func TestIsTransactionControl(t *testing.T) {
	tests := map[string]bool{
		"BEGIN":                              true,
		"begin":                              true,
		"BEGIN;":                             true,
		"  COMMIT  ":                         true,
		"END":                                true,
		"BEGIN TRANSACTION":                  true,
		"begin work":                         true,
		"BEGIN DEFERRED":                     true,
		"BEGIN IMMEDIATE TRANSACTION":        true,
		"BEGIN EXCLUSIVE":                    true,
		"COMMIT WORK":                        true,
		"COMMIT TRANSACTION":                 true,
		"END TRANSACTION":                    true,
		"BEGIN -- start":                     true,
		"BEGIN /* x */ TRANSACTION":          true,
		"ROLLBACK":                           false,
		"ROLLBACK TRANSACTION":               false,
		"BEGIN\nTRANSACTION":                 false,
		"BEGIN\r\nTRANSACTION":               false,
		"BEGIN ATOMIC":                       false,
		"BEGIN TRANSACTION TRANSACTION":      false,
		"BEGIN WORK DEFERRED":                false,
		"COMMIT DEFERRED":                    false,
		"END IF":                             false,
		"END LOOP":                           false,
		"BEGINNING":                          false,
		"ENDPOINT":                           false,
		"COMMITTED":                          false,
		"BEGIN ISOLATION LEVEL SERIALIZABLE": false,
		"SELECT 1":                           false,
		"BEGIN; SELECT 1":                    false,
		"BEGIN /* never closed":              false,
		"":                                   false,
		"-- just a comment":                  false,
		"CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END": false,
		"BEGIN\n  INSERT INTO t VALUES (1);\nEND":                false,
	}
	for stmt, want := range tests {
		if got := IsTransactionControl(stmt); got != want {
			t.Errorf("IsTransactionControl(%q) = %v, want %v", stmt, got, want)
		}
	}
}

func TestNoTransaction(t *testing.T) {
	tests := map[string]bool{
		"-- ratchet:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);": true,
		"\n\n   \t\n-- ratchet:no-transaction\nSELECT 1":                   true,
		"  -- ratchet:no-transaction  \r\nSELECT 1":                        true,
		"\uFEFF-- ratchet:no-transaction\n":                                true,
		"-- ratchet:no-transaction":                                        true,
		"-- Ratchet:No-Transaction\nSELECT 1":                              false,
		"--ratchet:no-transaction\nSELECT 1":                               false,
		"-- ratchet:no-transaction please\nSELECT 1":                       false,
		"-- a comment\n-- ratchet:no-transaction\nSELECT 1":                false,
		"SELECT 1; -- ratchet:no-transaction":                              false,
		"/* -- ratchet:no-transaction */":                                  false,
		"":                                                                 false,
		"\n\n":                                                             false,
	}
	for script, want := range tests {
		if got := NoTransaction(script); got != want {
			t.Errorf("NoTransaction(%q) = %v, want %v", script, got, want)
		}
	}
}

func TestKeyword(t *testing.T) {
	tests := map[string]string{
		"insert into t values (1)":                "INSERT",
		"  -- comment\n  CREATE TABLE t (id int)": "CREATE",
		"/* lead */ Update t set a = 1":           "UPDATE",
		"# mysql comment\nDELETE FROM t":          "DELETE",
		"/*!40101 SET NAMES utf8 */":              "",
		"(SELECT 1)":                              "",
		"":                                        "",
		"-- only a comment":                       "",
		"create_thing()":                          "CREATE_THING",
		"WITH x AS (SELECT 1) DELETE FROM t":      "WITH",
	}
	for stmt, want := range tests {
		if got := Keyword(stmt); got != want {
			t.Errorf("Keyword(%q) = %q, want %q", stmt, got, want)
		}
	}
}

func TestControlsTransaction(t *testing.T) {
	tests := map[string]bool{
		"ROLLBACK":                            true,
		"rollback work":                       true,
		"ROLLBACK TO SAVEPOINT a":             false,
		"ROLLBACK WORK TO a":                  false,
		"COMMIT AND CHAIN":                    true,
		"START TRANSACTION":                   true,
		"start transaction read only":         true,
		"START SLAVE":                         false,
		"BEGIN\nISOLATION LEVEL SERIALIZABLE": true,
		"ABORT":                               true,
		"SAVEPOINT a":                         false,
		"CREATE TABLE rollback_log (id int)":  false,
		"INSERT INTO t VALUES ('COMMIT')":     false,
	}
	for stmt, want := range tests {
		if got := ControlsTransaction(stmt); got != want {
			t.Errorf("ControlsTransaction(%q) = %v, want %v", stmt, got, want)
		}
	}
}
