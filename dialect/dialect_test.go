package dialect

import "testing"

func TestCommitsImplicitly(t *testing.T) {
	for stmt, want := range map[string]bool{
		"CREATE TABLE t (id INTEGER)":               true,
		"-- why\ncreate index i on t (id)":          true,
		"ALTER TABLE t ADD COLUMN c INTEGER":        true,
		"DROP TABLE t":                              true,
		"CREATE TEMPORARY TABLE t (id INTEGER)":     false,
		"drop temporary table t":                    false,
		"INSERT INTO t (id) VALUES (1)":             false,
		"SET @x = 1":                                false,
		"CALL p()":                                  false,
		"CREATE\tTEMPORARY TABLE t (id INTEGER)":    false,
		"/* c */ CREATE TEMPORARY TABLE t (id INT)": false,
	} {
		if got := MySQL.CommitsImplicitly(stmt); got != want {
			t.Errorf("MySQL.CommitsImplicitly(%q) = %v, want %v", stmt, got, want)
		}
	}
	if Postgres.CommitsImplicitly("CREATE TABLE t (id INTEGER)") {
		t.Error("PostgreSQL DDL reported as committing implicitly")
	}
}

// TestDialectDataCannotBeChanged: what a Dialect returns is a copy, so no caller can change
// what every other Migrator sees.
func TestDialectDataCannotBeChanged(t *testing.T) {
	h := SQLite.Hold()
	h.Keep, h.Replace[0] = "wal", "wal"
	if again := SQLite.Hold(); again.Keep != "persist" || again.Replace[0] != "delete" {
		t.Errorf("Hold() returned the shared data: %+v", again)
	}
	l := Postgres.Lock()
	l.TryLock = "SELECT true"
	if Postgres.Lock().TryLock == "SELECT true" {
		t.Error("Lock() returned the shared data")
	}
	if !MySQL.Valid() || Dialect(0).Valid() || Dialect(4).Valid() {
		t.Error("Valid")
	}
}

func TestRebind(t *testing.T) {
	for _, c := range []struct {
		d        Dialect
		in, want string
	}{
		{Postgres, "SELECT a FROM t WHERE id > ? AND b = ? LIMIT ?", "SELECT a FROM t WHERE id > $1 AND b = $2 LIMIT $3"},
		{Postgres, "SELECT '?', \"a?\" FROM t WHERE x = ? -- why?\nAND y = ?", "SELECT '?', \"a?\" FROM t WHERE x = $1 -- why?\nAND y = $2"},
		{Postgres, "SELECT 'unclosed ?", "SELECT 'unclosed ?"},
		{MySQL, "SELECT a FROM t WHERE id > ?", "SELECT a FROM t WHERE id > ?"},
		{SQLite, "SELECT a FROM t WHERE id > ?", "SELECT a FROM t WHERE id > ?"},
	} {
		if got := c.d.Rebind(c.in); got != c.want {
			t.Errorf("%s.Rebind(%q) = %q; want %q", c.d.Name(), c.in, got, c.want)
		}
	}
}
