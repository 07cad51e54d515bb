package sqlsplit

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDialectString(t *testing.T) {
	for d, want := range map[Dialect]string{
		SQLite:     "sqlite",
		PostgreSQL: "postgresql",
		MySQL:      "mysql",
		Dialect(0): "Dialect(0)",
		Dialect(9): "Dialect(9)",
	} {
		if got := d.String(); got != want {
			t.Errorf("Dialect(%d).String() = %q, want %q", int(d), got, want)
		}
	}
}

func TestSplitUnknownDialect(t *testing.T) {
	stmts, err := Split("SELECT 1", Dialect(0))
	if err == nil || !strings.Contains(err.Error(), "unknown dialect Dialect(0)") {
		t.Fatalf("Split with Dialect(0) = %v, %v; want an unknown dialect error", stmts, err)
	}
	var se *SyntaxError
	if errors.As(err, &se) {
		t.Errorf("unknown dialect reported as a SyntaxError: %v", err)
	}
}

func TestSyntaxErrors(t *testing.T) {
	all := []Dialect{SQLite, PostgreSQL, MySQL}
	tests := []struct {
		name     string
		script   string
		dialects []Dialect
		line     int
		msg      string // substring of the message
	}{
		{"single quote", "SELECT 1;\n\nSELECT 'abc;\n", all, 3, "unterminated string literal"},
		{"double quote", "SELECT 1;\nSELECT \"abc;", all, 2, "unterminated \"…\""},
		{"backtick", "SELECT 1;\r\nSELECT `abc;", []Dialect{SQLite, MySQL}, 2, "unterminated `…`"},
		{"bracket", "\n\nSELECT [abc;", []Dialect{SQLite}, 3, "unterminated [bracketed] identifier"},
		{"block comment between statements", "SELECT 1;\n/* never\nclosed", all, 2, "unterminated /* … */ comment"},
		{"block comment inside a statement", "SELECT 1\n+ /* never closed;\n", all, 2, "unterminated /* … */ comment"},
		{"nested block comment", "SELECT 1;\nSELECT /* /* */ 2;\n", []Dialect{PostgreSQL}, 2, "unterminated /* … */ comment"},
		{"dollar quote", "SELECT 1;\nCREATE FUNCTION f() AS $body$\nSELECT 1;\n$$;", []Dialect{PostgreSQL}, 2, "no closing $body$"},
		{"E string", "SELECT E'it\\'s;\n", []Dialect{PostgreSQL}, 1, "unterminated E'…' string"},
		{"backslash-escaped quote", "SELECT 1;\nSELECT 'it\\';", []Dialect{MySQL}, 2, "unterminated string literal"},
		{"escaped quote at the end", "SELECT 'abc\\", []Dialect{MySQL}, 1, "unterminated string literal"},
		{"sqlite trigger without END", "CREATE TABLE t (a);\nCREATE TRIGGER tr AFTER INSERT ON t\nBEGIN\n  SELECT 1;\n", []Dialect{SQLite}, 3,
			"unterminated BEGIN … END block (the statement starting at line 2 runs to the end of the script)"},
		{"begin atomic without END", "CREATE FUNCTION f() RETURNS int\nBEGIN ATOMIC\nSELECT 1;\n", []Dialect{PostgreSQL}, 2, "unterminated BEGIN … END block"},
		{"procedure without END", "SELECT 1;\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n", []Dialect{MySQL}, 3, "unterminated BEGIN … END block"},
		{"IF without END IF", "CREATE PROCEDURE p()\nBEGIN\n  IF x THEN SELECT 1;\nEND;", []Dialect{MySQL}, 2, "unterminated BEGIN … END block"},
		{"CASE without END", "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\nSELECT CASE WHEN 1 THEN 2;\nEND;", []Dialect{SQLite}, 1, "unterminated BEGIN … END block"},
		{"DELIMITER without argument", "SELECT 1;\nDELIMITER\nSELECT 2;", []Dialect{MySQL}, 2, "DELIMITER needs an argument"},
		{"DELIMITER with blank argument", "DELIMITER   \r\nSELECT 2;", []Dialect{MySQL}, 1, "DELIMITER needs an argument"},
		{"DELIMITER with two arguments", "\nDELIMITER $$ ;;\n", []Dialect{MySQL}, 2, `DELIMITER takes one argument, found "$$ ;;"`},
		{"DELIMITER with a backslash", "DELIMITER \\\\\n", []Dialect{MySQL}, 1, "cannot contain a backslash or a quote"},
		{"DELIMITER with a quote", "DELIMITER '$$'\n", []Dialect{MySQL}, 1, "cannot contain a backslash or a quote"},
		{"DELIMITER not at line start", "SELECT 1; DELIMITER $$\n", []Dialect{MySQL}, 1, "DELIMITER must start its own line"},
		{"unterminated after DELIMITER", "DELIMITER $$\nSELECT 1$$\nSELECT 'x;$$\n", []Dialect{MySQL}, 3, "unterminated string literal"},
	}
	for _, tt := range tests {
		for _, d := range tt.dialects {
			t.Run(tt.name+"/"+d.String(), func(t *testing.T) {
				stmts, err := Split(tt.script, d)
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("Split(%q) = %v, %v; want a *SyntaxError", tt.script, stmts, err)
				}
				if se.Line != tt.line || !strings.Contains(se.Msg, tt.msg) {
					t.Errorf("Split(%q) error = line %d: %q; want line %d: …%s…", tt.script, se.Line, se.Msg, tt.line, tt.msg)
				}
				if want := "line " + itoa(se.Line) + ": " + se.Msg; err.Error() != want {
					t.Errorf("Error() = %q, want %q", err.Error(), want)
				}
				if stmts != nil {
					t.Errorf("statements returned with an error: %v", stmts)
				}
			})
		}
	}
}

// itoa formats n without strconv, to check Error's formatting independently.
func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// TestSplitEdges covers rules whose inputs are awkward to keep in golden files.
func TestSplitEdges(t *testing.T) {
	tests := []struct {
		name    string
		script  string
		dialect Dialect
		want    []Statement
	}{
		{"empty", "", SQLite, nil},
		{"only comments and terminators", "-- a\n;/* b */;\n\t;", PostgreSQL, nil},
		{"byte order mark", "\uFEFFSELECT 1;", SQLite, []Statement{{Text: "SELECT 1", Line: 1, Offset: 3}}},
		// Databases read non-ASCII spaces as part of a word: the splitter leaves them to the
		// database rather than hide them.
		{"unicode spaces belong to statements", "\u00a0SELECT 1\u2003;\u3000", PostgreSQL, []Statement{{Text: "\u00a0SELECT 1\u2003", Line: 1, Offset: 0}, {Text: "\u3000", Line: 1, Offset: 14}}},
		{"vertical tab is a space, as to the clients", "SELECT 1;\v", SQLite, []Statement{{Text: "SELECT 1", Line: 1, Offset: 0}}},
		{"mysql dashes at the very end", "SELECT 1 --", MySQL, []Statement{{Text: "SELECT 1 --", Line: 1, Offset: 0}}},
		{"mysql dashes before a control character", "SELECT 1 --\x01;\n;", MySQL, []Statement{{Text: "SELECT 1 --\x01;", Line: 1, Offset: 0}}},
		{"mysql dashes before a letter", "SELECT 1 --x;", MySQL, []Statement{{Text: "SELECT 1 --x", Line: 1, Offset: 0}}},
		{"hash is not a comment outside mysql", "SELECT 1 # x;\nSELECT 2", SQLite, []Statement{{Text: "SELECT 1 # x", Line: 1, Offset: 0}, {Text: "SELECT 2", Line: 2, Offset: 14}}},
		{"mysql block comments do not nest", "SELECT /* /* */ 1; SELECT 2", MySQL, []Statement{{Text: "SELECT /* /* */ 1", Line: 1, Offset: 0}, {Text: "SELECT 2", Line: 1, Offset: 19}}},
		{"sqlite block comments do not nest", "SELECT /* /* */ 1; SELECT 2", SQLite, []Statement{{Text: "SELECT /* /* */ 1", Line: 1, Offset: 0}, {Text: "SELECT 2", Line: 1, Offset: 19}}},
		{"backslash is literal outside mysql", `SELECT '\'; SELECT 2`, SQLite, []Statement{{Text: `SELECT '\'`, Line: 1, Offset: 0}, {Text: "SELECT 2", Line: 1, Offset: 12}}},
		{"brackets only in sqlite", "SELECT a[1]; SELECT 2", PostgreSQL, []Statement{{Text: "SELECT a[1]", Line: 1, Offset: 0}, {Text: "SELECT 2", Line: 1, Offset: 13}}},
		{"backticks are not quotes in postgresql", "SELECT `a; SELECT 2`", PostgreSQL, []Statement{{Text: "SELECT `a", Line: 1, Offset: 0}, {Text: "SELECT 2`", Line: 1, Offset: 11}}},
		{"dollar is not a quote outside postgresql", "SELECT $$a; SELECT b$$", SQLite, []Statement{{Text: "SELECT $$a", Line: 1, Offset: 0}, {Text: "SELECT b$$", Line: 1, Offset: 12}}},
		{"dollar at the end", "SELECT $", PostgreSQL, []Statement{{Text: "SELECT $", Line: 1, Offset: 0}}},
		{"parentheses hold the terminator only in postgresql", "SELECT (1; SELECT 2)", MySQL, []Statement{{Text: "SELECT (1", Line: 1, Offset: 0}, {Text: "SELECT 2)", Line: 1, Offset: 11}}},
		{"unbalanced close parenthesis", "SELECT 1); SELECT 2", PostgreSQL, []Statement{{Text: "SELECT 1)", Line: 1, Offset: 0}, {Text: "SELECT 2", Line: 1, Offset: 11}}},
		{"custom delimiter glued to a word", "DELIMITER $$\nSELECT 1$$SELECT 2$$\nDELIMITER ;\nSELECT 3;", MySQL,
			[]Statement{{Text: "SELECT 1", Line: 2, Offset: 13}, {Text: "SELECT 2", Line: 2, Offset: 23}, {Text: "SELECT 3", Line: 4, Offset: 46}}},
		{"DELIMITER without space", "DELIMITER //\nSELECT 1//\ndelimiter;\nSELECT 2;", MySQL, []Statement{{Text: "SELECT 1", Line: 2, Offset: 13}, {Text: "SELECT 2", Line: 4, Offset: 35}}},
		{"delimiter is a word in other dialects", "DELIMITER //\nSELECT 1;", SQLite, []Statement{{Text: "DELIMITER //\nSELECT 1", Line: 1, Offset: 0}}},
		{"a column named delimiter", "CREATE TABLE t (\ndelimiter INT);", MySQL, []Statement{{Text: "CREATE TABLE t (\ndelimiter INT)", Line: 1, Offset: 0}}},
		{"mysql executable comment with a semicolon", "/*!40101 SET a=1; SET b=2 */;", MySQL,
			[]Statement{{Text: "/*!40101 SET a=1", Line: 1, Offset: 0}, {Text: "SET b=2 */", Line: 1, Offset: 18}}},
		{"mysql anonymous BEGIN is a transaction", "BEGIN; SELECT 1; END;", MySQL,
			[]Statement{{Text: "BEGIN", Line: 1, Offset: 0}, {Text: "SELECT 1", Line: 1, Offset: 7}, {Text: "END", Line: 1, Offset: 17}}},
		{"postgresql function body in dollar quotes holds BEGIN", "CREATE FUNCTION f() RETURNS void AS $$ BEGIN $$ LANGUAGE plpgsql; SELECT 1", PostgreSQL,
			[]Statement{{Text: "CREATE FUNCTION f() RETURNS void AS $$ BEGIN $$ LANGUAGE plpgsql", Line: 1, Offset: 0}, {Text: "SELECT 1", Line: 1, Offset: 66}}},
		{"begin as a value in a trigger head", "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = begin; SELECT 1", MySQL,
			[]Statement{{Text: "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = begin", Line: 1, Offset: 0}, {Text: "SELECT 1", Line: 1, Offset: 68}}},
		{"mysql backtick label", "CREATE PROCEDURE p() BEGIN `my lbl`: LOOP LEAVE `my lbl`; END LOOP; END; SELECT 1", MySQL,
			[]Statement{{Text: "CREATE PROCEDURE p() BEGIN `my lbl`: LOOP LEAVE `my lbl`; END LOOP; END", Line: 1, Offset: 0}, {Text: "SELECT 1", Line: 1, Offset: 73}}},
		{"mysql view is not a routine", "CREATE ALGORITHM=MERGE DEFINER=a@b VIEW v AS SELECT begin FROM t; SELECT 1", MySQL,
			[]Statement{{Text: "CREATE ALGORITHM=MERGE DEFINER=a@b VIEW v AS SELECT begin FROM t", Line: 1, Offset: 0}, {Text: "SELECT 1", Line: 1, Offset: 66}}},
		{"sqlite nested BEGIN in a trigger body", "CREATE TRIGGER t AFTER INSERT ON x BEGIN\nBEGIN\nSELECT 1;\nEND;\nEND;\nSELECT 2", SQLite,
			[]Statement{{Text: "CREATE TRIGGER t AFTER INSERT ON x BEGIN\nBEGIN\nSELECT 1;\nEND;\nEND", Line: 1, Offset: 0}, {Text: "SELECT 2", Line: 6, Offset: 67}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.script, tt.dialect)
			if err != nil {
				t.Fatalf("Split(%q, %s): %v", tt.script, tt.dialect, err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b []Statement) bool {
				return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b)
			})); diff != "" {
				t.Errorf("Split(%q, %s) (-want +got):\n%s", tt.script, tt.dialect, diff)
			}
		})
	}
}

func TestSplitHandlerBlock(t *testing.T) {
	script := "CREATE PROCEDURE p()\nBEGIN\n" +
		"  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN SELECT begin FROM t; END;\n" +
		"  SELECT 1;\nEND;\nSELECT 2"
	got, err := Split(script, MySQL)
	if err != nil {
		t.Fatal(err)
	}
	want := []Statement{
		{Text: script[:strings.Index(script, "END;\nSELECT 2")+len("END")], Line: 1, Offset: 0},
		{Text: "SELECT 2", Line: 6, Offset: strings.LastIndex(script, "SELECT 2")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestNotSQL checks that a NUL byte (every dialect) and a psql meta-command at the start
// of a line (PostgreSQL) are refused by both Split and NotSQL with the same line, and
// that backslashes in literals, comments, COPY data or inside a line are not.
func TestNotSQL(t *testing.T) {
	all := []Dialect{SQLite, PostgreSQL, MySQL}
	tests := []struct {
		name     string
		script   string
		dialects []Dialect
		line     int    // 0: accepted
		msg      string // substring of the message
	}{
		{"NUL between statements", "SELECT 1;\n\x00\nSELECT 2;", all, 2, "NUL byte (0x00) at column 1"},
		{"NUL in a string", "SELECT 1;\nSELECT 'a\x00b';", all, 2, "NUL byte (0x00) at column 10"},
		{"NUL in a comment", "-- \x00\nSELECT 1;", all, 1, "NUL byte"},
		{"NUL after an unterminated quote", "SELECT 'x;\n\x00", all, 2, "NUL byte"},
		{"connect", "SELECT 1;\n\\connect other\nSELECT 2;", []Dialect{PostgreSQL}, 2, `psql meta-command \connect is not SQL`},
		{"indented c", "SELECT 1;\n\t  \\c other\n", []Dialect{PostgreSQL}, 2, `\c is not SQL`},
		{"set inside a statement", "SELECT\n\\set x 1\n1;", []Dialect{PostgreSQL}, 2, `\set is not SQL`},
		{"first line", `\i other.sql`, []Dialect{PostgreSQL}, 1, `\i is not SQL`},
		{"CRLF", "SELECT 1;\r\n\\gexec\r\n", []Dialect{PostgreSQL}, 2, `\gexec is not SQL`},
		{"end of copy without a COPY", "SELECT 1;\n\\.\n", []Dialect{PostgreSQL}, 2, `\. is not SQL`},
		{"after COPY data", "COPY t FROM STDIN;\n1\n\\.\n\\connect x\n", []Dialect{PostgreSQL}, 4, `\connect`},
		{"in a string", "SELECT '\n\\connect x';", []Dialect{PostgreSQL}, 0, ""},
		{"in a dollar quote", "SELECT $q$\n\\connect x$q$;", []Dialect{PostgreSQL}, 0, ""},
		{"in a comment", "/*\n\\connect x */ SELECT 1;\n-- \\c\n", []Dialect{PostgreSQL}, 0, ""},
		{"in an E string", "SELECT E'\\\\';", []Dialect{PostgreSQL}, 0, ""},
		{"inside a line", "SELECT 1 \\gset\n", []Dialect{PostgreSQL}, 0, ""},
		{"COPY data", "COPY t (a) FROM stdin;\n\\N\n\\\\x\n\\.\nSELECT 1;", []Dialect{PostgreSQL}, 0, ""},
		{"COPY FROM a file", "COPY t FROM '/tmp/x';\n\\N\n", []Dialect{PostgreSQL}, 2, `\N is not SQL`},
		{"other dialects leave backslashes to the server", "SELECT 1;\n\\connect x\n", []Dialect{SQLite, MySQL}, 0, ""},
	}
	for _, tt := range tests {
		for _, d := range tt.dialects {
			t.Run(tt.name+"/"+d.String(), func(t *testing.T) {
				_, err := Split(tt.script, d)
				checked := NotSQL(tt.script, d)
				if tt.line == 0 {
					if checked != nil {
						t.Errorf("NotSQL = %v, want nil", checked)
					}
					var se *SyntaxError
					if errors.As(err, &se) && se.NotSQL {
						t.Errorf("Split refused it: %v", err)
					}
					return
				}
				var se *SyntaxError
				if !errors.As(err, &se) || !se.NotSQL || se.Line != tt.line || !strings.Contains(se.Msg, tt.msg) {
					t.Errorf("Split error = %#v, want NotSQL at line %d containing %q", err, tt.line, tt.msg)
				}
				if checked == nil || *checked != *se {
					t.Errorf("NotSQL = %#v, want what Split returned: %#v", checked, se)
				}
			})
		}
	}
}
