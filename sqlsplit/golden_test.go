package sqlsplit

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenDialects returns the dialects a golden input runs under, from its name prefix:
// "sqlite-", "postgresql-", "mysql-", or "any-" for all three (which must agree).
func goldenDialects(name string) ([]Dialect, error) {
	prefix, _, _ := strings.Cut(name, "-")
	switch prefix {
	case "any":
		return []Dialect{SQLite, PostgreSQL, MySQL}, nil
	case "sqlite":
		return []Dialect{SQLite}, nil
	case "postgresql":
		return []Dialect{PostgreSQL}, nil
	case "mysql":
		return []Dialect{MySQL}, nil
	}
	return nil, fmt.Errorf("%s: name must start with any-, sqlite-, postgresql- or mysql-", name)
}

// renderGolden renders the result of a split: one header line per statement giving its
// number, line and offset, then its text. A text holding control characters other than
// newline and tab (a CR from CRLF input, say) is written as a Go string literal.
func renderGolden(stmts []Statement, err error) string {
	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
		return b.String()
	}
	for i, s := range stmts {
		fmt.Fprintf(&b, "--- statement %d: line %d, offset %d\n", i+1, s.Line, s.Offset)
		if strings.ContainsFunc(s.Text, func(r rune) bool { return r < ' ' && r != '\n' && r != '\t' }) {
			b.WriteString("quoted: " + strconv.Quote(s.Text) + "\n")
		} else {
			b.WriteString(s.Text + "\n")
		}
		if s.FromStdin {
			b.WriteString("--- rows from stdin:\n" + s.Rows)
		}
	}
	if len(stmts) == 0 {
		b.WriteString("(no statements)\n")
	}
	return b.String()
}

// TestGolden splits every testdata/*.sql and compares the result with the .golden file
// next to it. Run with -update to rewrite the golden files.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no testdata/*.sql")
	}
	for _, input := range inputs {
		name := filepath.Base(input)
		t.Run(name, func(t *testing.T) {
			dialects, err := goldenDialects(name)
			if err != nil {
				t.Fatal(err)
			}
			script, err := os.ReadFile(input)
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(input, ".sql") + ".golden"
			got := renderGolden(Split(string(script), dialects[0]))
			for _, d := range dialects[1:] {
				other := renderGolden(Split(string(script), d))
				if diff := cmp.Diff(got, other); diff != "" {
					t.Errorf("%s splits differently under %s and %s (-%s +%s):\n%s", name, dialects[0], d, dialects[0], d, diff)
				}
			}
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s differs from %s (-want +got):\n%s", name, golden, diff)
			}
		})
	}
}
