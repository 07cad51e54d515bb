package sqlsplit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzSplit checks the invariants every split must keep, whatever the input: no panic;
// each statement is the exact script text at its offset, non-empty and trimmed; offsets
// strictly increase; each line number counts the newlines before the offset; a failure
// is a *SyntaxError naming a line of the script.
func FuzzSplit(f *testing.F) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.sql"))
	if err != nil {
		f.Fatal(err)
	}
	for _, input := range inputs {
		script, err := os.ReadFile(input)
		if err != nil {
			f.Fatal(err)
		}
		for _, d := range []Dialect{SQLite, PostgreSQL, MySQL} {
			f.Add(string(script), uint8(d))
		}
	}
	f.Fuzz(func(t *testing.T, script string, dialect uint8) {
		d := Dialect(1 + dialect%3)
		stmts, err := Split(script, d)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Split(%q, %s): error is not a *SyntaxError: %v", script, d, err)
			}
			if lines := strings.Count(script, "\n") + 1; se.Line < 1 || se.Line > lines {
				t.Fatalf("Split(%q, %s): error line %d outside 1..%d", script, d, se.Line, lines)
			}
			return
		}
		prev := -1
		for i, s := range stmts {
			if s.Offset <= prev {
				t.Fatalf("Split(%q, %s): statement %d offset %d does not follow %d", script, d, i, s.Offset, prev)
			}
			prev = s.Offset
			if s.Offset < 0 || s.Offset+len(s.Text) > len(script) || script[s.Offset:s.Offset+len(s.Text)] != s.Text {
				t.Fatalf("Split(%q, %s): statement %d %q is not the script text at offset %d", script, d, i, s.Text, s.Offset)
			}
			if want := 1 + strings.Count(script[:s.Offset], "\n"); s.Line != want {
				t.Fatalf("Split(%q, %s): statement %d line %d, want %d", script, d, i, s.Line, want)
			}
			space := func(r rune) bool { return strings.ContainsRune(" \t\n\r\v\f", r) }
			if s.Text == "" || strings.TrimFunc(s.Text, space) != s.Text {
				t.Fatalf("Split(%q, %s): statement %d %q is empty or not trimmed", script, d, i, s.Text)
			}
		}
	})
}
