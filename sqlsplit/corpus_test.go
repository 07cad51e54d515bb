package sqlsplit

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ratchetdb/ratchet/internal/testenv"
)

// corpusCase is a case of the shared splitter corpus (see its README.md).
type corpusCase struct {
	Dialect    string   `json:"dialect"`
	Statements []string `json:"statements"`
	Source     string   `json:"source"`
	Notes      string   `json:"notes"`
	Tags       []string `json:"tags"`
}

// corpusSkips lists the cases, per dialect, whose expectation contradicts that dialect's
// lexical rules, with the reason.
var corpusSkips = map[string]map[Dialect]string{
	"libpg_query/5-line-comment": {
		MySQL: `"--othercomment" has no space after "--", so in MySQL it is two minus signs, ` +
			`not a comment, and the ";" inside it ends the statement (mysql client and server agree)`,
	},
	"sqlparse/dashcomment": {
		MySQL: `"--select * from host;" has no space after "--", so in MySQL it is a statement, ` +
			`not a comment`,
	},
}

// TestCorpus runs every case of the shared splitter corpus under every dialect it
// applies to.
func TestCorpus(t *testing.T) {
	root := corpusDir(t)
	var names []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "expected.json" {
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatalf("no cases (no expected.json) under %s", root)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(root, filepath.FromSlash(name))
			input, err := os.ReadFile(filepath.Join(dir, "input.sql"))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
			if err != nil {
				t.Fatal(err)
			}
			var c corpusCase
			if err := json.Unmarshal(raw, &c); err != nil {
				t.Fatalf("%s/expected.json: %v", name, err)
			}
			for _, d := range corpusDialects(t, c.Dialect) {
				t.Run(d.String(), func(t *testing.T) {
					if reason, ok := corpusSkips[name][d]; ok {
						t.Skip("contradicts the " + d.String() + " rules: " + reason)
					}
					stmts, err := Split(string(input), d)
					if err != nil {
						t.Fatalf("Split: %v\nsource: %s", err, c.Source)
					}
					got := []string{}
					for _, s := range stmts {
						got = append(got, s.Text)
					}
					want := c.Statements
					if want == nil {
						want = []string{}
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("statements differ (-want +got):\n%s\nsource: %s\nnotes: %s", diff, c.Source, c.Notes)
					}
				})
			}
		})
	}
}

// corpusDialects returns the dialects a case with the given dialect field runs under.
func corpusDialects(t *testing.T, name string) []Dialect {
	all := []Dialect{SQLite, PostgreSQL, MySQL}
	if name == "any" {
		return all
	}
	for _, d := range all {
		if d.String() == name {
			return []Dialect{d}
		}
	}
	t.Fatalf("unknown dialect %q in expected.json", name)
	return nil
}

// corpusDir finds the shared splitter corpus: $RATCHET_SPLITTER_CORPUS, else
// shared/corpus/splitter in a parent directory of the module root. Without it the test
// skips, unless RATCHET_TEST_REQUIRE_CORPUS=1.
func corpusDir(t *testing.T) string {
	if dir := os.Getenv("RATCHET_SPLITTER_CORPUS"); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("RATCHET_SPLITTER_CORPUS: %v", err)
		}
		return dir
	}
	root, err := moduleRoot()
	if err == nil {
		for dir := filepath.Dir(root); ; dir = filepath.Dir(dir) {
			candidate := filepath.Join(dir, "shared", "corpus", "splitter")
			if fi, err := os.Stat(candidate); err == nil && fi.IsDir() {
				return candidate
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	msg := "SPLITTER CORPUS NOT FOUND: set RATCHET_SPLITTER_CORPUS or put it at ../shared/corpus/splitter " +
		"relative to the module root"
	if err != nil {
		msg += " (" + err.Error() + ")"
	}
	if os.Getenv("RATCHET_TEST_REQUIRE_CORPUS") == "1" {
		t.Fatal(msg)
	}
	t.Log(msg)
	testenv.Skip(t, "the splitter corpus is not found (RATCHET_SPLITTER_CORPUS)")
	return ""
}

// moduleRoot returns the nearest directory at or above the working directory that holds
// go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
