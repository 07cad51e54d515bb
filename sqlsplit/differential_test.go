package sqlsplit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/ratchetdb/ratchet/sqlsplit"
)

// FuzzSQLiteDifferential runs each script twice on a fresh in-memory SQLite database: split
// by ratchet's splitter and sent statement by statement, as ratchet runs a version, and sent
// whole in one Exec, which SQLite splits itself. Both must leave the same schema and rows and
// agree on whether a statement failed — or the splitter must refuse the script, which then
// never runs. A script holding a NUL byte must be refused: SQLite would stop reading at it.
//
// The input is either a script as is (first byte odd) or the recipe of a generated one
// (first byte even) whose statements, literals, quoted names, comments and trigger bodies
// put terminators, quotes and comment markers where a naive splitter goes wrong.
func FuzzSQLiteDifferential(f *testing.F) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.sql"))
	if err != nil {
		f.Fatal(err)
	}
	for _, input := range inputs {
		if base := filepath.Base(input); strings.HasPrefix(base, "sqlite-") || strings.HasPrefix(base, "any-") {
			script, err := os.ReadFile(input)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(append([]byte{1}, script...))
		}
	}
	for _, seed := range []string{
		"\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c",
		"\x00\x03\x03\x03\x01\x01\x02\x02\x05';--/*\x00\x07\x08",
		"\x02\x0b\x0b\x0b\x0b\x01\x04\x09x;y\x02\x06\x06",
		"\x04\x01\x00\x05\x05\x05\x07\x0a\x02\x03[a;b]`c;d`\"e;f\"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		script, generated := string(data[1:]), data[0]%2 == 0
		if generated {
			script = generateScript(data[1:])
		} else if unsafeForDifferential(script) {
			return
		}
		stmts, splitErr := sqlsplit.Split(script, sqlsplit.SQLite)
		if strings.IndexByte(script, 0) >= 0 {
			var se *sqlsplit.SyntaxError
			if !errors.As(splitErr, &se) || !se.NotSQL {
				t.Fatalf("a script with a NUL byte was not refused: %v\n%q", splitErr, script)
			}
			return
		}
		if splitErr != nil {
			return // refused before anything runs
		}
		if !generated && skipsTransactionControl(stmts) {
			// The whole script would manage its own transactions, where ratchet skips or
			// refuses such statements. Generated scripts have none, so that a split that
			// cuts one out of another statement (the END of a trigger body) is caught by
			// the comparison.
			return
		}
		ctx := context.Background()
		one, oneErr := runSQLite(ctx, t, func(db *sql.Conn) error {
			for _, s := range stmts {
				if _, err := db.ExecContext(ctx, s.Text); err != nil {
					return fmt.Errorf("line %d: %w", s.Line, err)
				}
			}
			return nil
		})
		whole, wholeErr := runSQLite(ctx, t, func(db *sql.Conn) error {
			_, err := db.ExecContext(ctx, script)
			return err
		})
		if (oneErr == nil) != (wholeErr == nil) || one != whole {
			t.Fatalf("split and whole runs differ\nscript: %q\nstatements: %q\nsplit: error %v, state:\n%s\nwhole: error %v, state:\n%s",
				script, texts(stmts), oneErr, one, wholeErr, whole)
		}
	})
}

// unsafeForDifferential reports whether a raw script could reach outside its in-memory
// database (files, extensions, settings) or give different results on two runs.
func unsafeForDifferential(script string) bool {
	// A vertical tab is whitespace to the sqlite3 client (C's isspace) and to the splitter,
	// but the driver's whole-script loop passes a leading one to SQLite's tokenizer, which
	// refuses it: on \v the oracle is not the database's own client.
	if strings.Contains(script, "\v") {
		return true
	}
	lower := strings.ToLower(script)
	for _, w := range []string{"attach", "vacuum", "load_extension", "pragma", "random", "'now'", "current_", "julianday(", "strftime(",
		"date(", "time(", "changes(", "last_insert_rowid", "sqlite_"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// skipsTransactionControl reports whether the split has statements ratchet skips, which the
// whole-script run executes.
func skipsTransactionControl(stmts []sqlsplit.Statement) bool {
	for _, s := range stmts {
		if sqlsplit.IsTransactionControl(s.Text) || sqlsplit.ControlsTransaction(s.Text) {
			return true
		}
	}
	return false
}

func texts(stmts []sqlsplit.Statement) []string {
	out := make([]string, len(stmts))
	for i, s := range stmts {
		out[i] = s.Text
	}
	return out
}

// runSQLite runs fn on a connection to a new in-memory database and returns a description
// of what it holds afterwards.
func runSQLite(ctx context.Context, t *testing.T, fn func(*sql.Conn) error) (string, error) {
	t.Helper()
	db, err := sql.Open("sqlite", "file::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	runErr := fn(conn)
	// A transaction a statement left open is rolled back, as a failed run's would be.
	conn.ExecContext(ctx, "ROLLBACK")
	return describeSQLite(ctx, t, conn), runErr
}

// describeSQLite lists the schema and every table's rows.
func describeSQLite(ctx context.Context, t *testing.T, conn *sql.Conn) string {
	t.Helper()
	var b strings.Builder
	rows, err := conn.QueryContext(ctx, "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var typ, name, tbl, text string
		if err := rows.Scan(&typ, &name, &tbl, &text); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s on %s: %s\n", typ, name, tbl, text)
		if typ == "table" && !strings.HasPrefix(name, "sqlite_") {
			tables = append(tables, name)
		}
	}
	rows.Close()
	for _, table := range tables {
		quoted := `"` + strings.ReplaceAll(table, `"`, `""`) + `"`
		rows, err := conn.QueryContext(ctx, "SELECT * FROM "+quoted)
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", table, err) // a virtual table without its module, say
			continue
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		var lines []string
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, fmt.Sprintf("%q", vals))
		}
		rows.Close()
		// Rows in a stable order: the same rows may come back in another order when
		// statements ran in a different physical layout.
		slices.Sort(lines)
		fmt.Fprintf(&b, "%s: %s\n", table, strings.Join(lines, " "))
	}
	return b.String()
}

// recipe reads the bytes of a generated script's recipe; past its end it reads zeros.
type recipe struct {
	data []byte
	i    int
}

func (r *recipe) next() byte {
	if r.i >= len(r.data) {
		r.i++
		return 0
	}
	b := r.data[r.i]
	r.i++
	return b
}

func (r *recipe) done() bool { return r.i >= len(r.data) }

// pick returns one of options, chosen by the next byte.
func (r *recipe) pick(options ...string) string { return options[int(r.next())%len(options)] }

// text returns a run of the recipe's bytes (up to the next byte's value mod 8) for the
// inside of a literal or quoted name, with the quote q doubled as SQL escapes it.
func (r *recipe) text(q byte) string {
	n := int(r.next()) % 8
	var b strings.Builder
	for range n {
		c := r.next()
		if c < ' ' && c != '\n' && c != '\t' && c != 0 {
			c = ';'
		}
		if c >= 0x80 {
			b.WriteString("é")
			continue
		}
		b.WriteByte(c)
		if c == q {
			b.WriteByte(q)
		}
	}
	return b.String()
}

// literal returns a literal value.
func (r *recipe) literal() string {
	switch r.next() % 5 {
	case 0:
		return fmt.Sprint(int(r.next()) - 100)
	case 1:
		return "NULL"
	case 2:
		return "X'" + fmt.Sprintf("%02x", r.next()) + "'"
	}
	return "'" + r.text('\'') + "'"
}

// name returns a table or column name, quoted in one of SQLite's ways or not at all.
func (r *recipe) name(prefix string) string {
	base := fmt.Sprintf("%s%d", prefix, r.next()%4)
	switch r.next() % 6 {
	case 0:
		return `"` + base + strings.ReplaceAll(r.text('"'), "\x00", "") + `"`
	case 1:
		return "[" + base + strings.NewReplacer("]", "", "\x00", "").Replace(r.text(']')) + "]"
	case 2:
		return "`" + base + strings.ReplaceAll(r.text('`'), "\x00", "") + "`"
	}
	return base
}

// separator returns what ends a statement: a terminator with comments and line breaks.
func (r *recipe) separator() string {
	return r.pick(";\n", ";", " ;\r\n", "; -- a comment; with a terminator\n", "/* c; */;\n", ";;\n", "\n-- ; only a comment\n;\n",
		";\n/* multi\nline ; comment */\n", "; # not a comment in SQLite\n")
}

// statement returns one statement without its terminator.
func (r *recipe) statement() string {
	switch r.next() % 10 {
	case 0, 1:
		return "CREATE TABLE IF NOT EXISTS " + r.name("t") + " (a, b)"
	case 2, 3:
		return "INSERT INTO " + r.name("t") + " VALUES (" + r.literal() + ", " + r.literal() + ")"
	case 4:
		return "CREATE TRIGGER IF NOT EXISTS " + r.name("tr") + " AFTER INSERT ON " + r.name("t") + " BEGIN\n  INSERT INTO " +
			r.name("t") + " VALUES (" + r.literal() + ", 'trigger; body');\n  " +
			r.pick("SELECT CASE WHEN new.a IS NULL THEN 1 ELSE 2 END;", "UPDATE t0 SET b = 'end;' WHERE a = new.a;", "DELETE FROM t1 WHERE b = ';';") + "\nEND"
	case 5:
		return "CREATE VIEW IF NOT EXISTS " + r.name("v") + " AS SELECT " + r.literal() + " AS x, 'view; text' AS y"
	case 6:
		return "DELETE FROM " + r.name("t") + " WHERE a = " + r.literal()
	case 7:
		return "UPDATE " + r.name("t") + " SET b = " + r.literal() + " /* inline; comment */ WHERE a IS NOT " + r.literal()
	case 8:
		return "SELECT " + r.literal() + " -- trailing; comment\n"
	}
	return r.pick("INSERT INTO nowhere VALUES (1)", "CREATE TABLE t0 (a, b)", "SELECT 'unbalanced", "SELECT * FROM [t1")
}

// generateScript builds a script from a recipe.
func generateScript(data []byte) string {
	r := &recipe{data: data}
	var b strings.Builder
	if r.next()%5 == 0 {
		b.WriteString("\uFEFF")
	}
	for n := 0; n < 12 && !r.done(); n++ {
		if r.next()%4 == 0 {
			b.WriteString(r.pick("-- leading comment;\n", "/* leading; */ ", "\n\n", "  \t"))
		}
		b.WriteString(r.statement())
		b.WriteString(r.separator())
	}
	return b.String()
}
