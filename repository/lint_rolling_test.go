package repository

import (
	"slices"
	"strings"
	"testing"
)

// TestLintRolling: every rolling rule, its waiver, and what the rules leave alone.
func TestLintRolling(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string // "<severity> <rule>" of each finding, in order
	}{
		{"additive expand", map[string]string{
			"expand":   "ALTER TABLE t ADD COLUMN b VARCHAR(20);\nALTER TABLE t ALTER COLUMN a DROP NOT NULL;\nALTER TABLE t ADD COLUMN c INTEGER NOT NULL DEFAULT 0;\nCREATE INDEX ix ON t (b);\nINSERT INTO seed VALUES (1);",
			"contract": "ALTER TABLE t DROP COLUMN a;\nALTER TABLE t ALTER COLUMN b SET NOT NULL;",
		}, nil},
		{"drops", map[string]string{"expand": "DROP TABLE old;\nALTER TABLE t DROP COLUMN a, ADD COLUMN b INT;\nALTER TABLE t DROP a;\nTRUNCATE t;\nDROP INDEX ix;"},
			[]string{"error RU101", "error RU101", "error RU101", "error RU101", "error RU101"}},
		{"renames", map[string]string{"expand": "ALTER TABLE t RENAME TO u;\nALTER TABLE t RENAME COLUMN a TO b;\nRENAME TABLE t TO u;\nALTER TABLE t CHANGE a b INT;"},
			[]string{"error RU102", "error RU102", "error RU102", "error RU102"}},
		{"not null without default", map[string]string{"expand": "ALTER TABLE t ADD COLUMN slug VARCHAR(200) NOT NULL;"}, []string{"error RU103"}},
		{"tighten", map[string]string{"expand": "ALTER TABLE t ALTER COLUMN a SET NOT NULL;\nALTER TABLE t MODIFY a VARCHAR(20) NOT NULL;\nALTER TABLE t ALTER COLUMN a TYPE BIGINT;\nALTER TABLE t MODIFY a VARCHAR(20) NULL;"},
			[]string{"error RU104", "error RU104", "error RU104"}},
		{"constraints", map[string]string{"expand": "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a);\nALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\nALTER TABLE t ADD FOREIGN KEY (a) REFERENCES u (id);"},
			[]string{"error RU105", "warning RU105", "error RU105"}},
		{"data changes", map[string]string{"expand": "DELETE FROM t WHERE a = 'x';\nUPDATE t SET a = 'y';"}, []string{"error RU106", "warning RU106"}},
		{"schema change in migrate", map[string]string{"migrate": "UPDATE t SET b = a;\nCREATE INDEX ix ON t (b);"}, []string{"error RU201"}},
		{"trigger left behind", map[string]string{
			"expand":   "ALTER TABLE t ADD COLUMN b INT;\n-- ratchet:online begin\nCREATE TRIGGER ratchet_v002_t_sync BEFORE INSERT ON t FOR EACH ROW SET NEW.b = NEW.a;\nCREATE OR REPLACE FUNCTION ratchet_v002_f() RETURNS trigger AS $$ BEGIN DROP TABLE x; RETURN NEW; END $$ LANGUAGE plpgsql;\n-- ratchet:online end",
			"contract": "DROP TRIGGER ratchet_v002_t_sync;\nDROP FUNCTION IF EXISTS ratchet_v002_f();",
		}, []string{"error RU301"}},
		{"triggers dropped", map[string]string{
			"expand":   "CREATE TRIGGER \"ratchet_v002_t_sync\" AFTER INSERT ON t BEGIN UPDATE t SET b = NEW.a WHERE id = NEW.id; END;",
			"contract": "DROP TRIGGER IF EXISTS ratchet_v002_t_sync;",
		}, nil},
		{"contract adds", map[string]string{"contract": "CREATE TABLE later (id INT);\nALTER TABLE t ADD COLUMN z INT, DROP COLUMN a;"}, []string{"warning RU302", "warning RU302"}},
		{"table rebuild", map[string]string{"expand": "CREATE TABLE t_new (id INTEGER PRIMARY KEY, a TEXT, b TEXT);\nINSERT INTO t_new (id, a) SELECT id, a FROM t;\nDROP TABLE t;\nALTER TABLE t_new RENAME TO t;"}, nil},
		{"waiver", map[string]string{"expand": "-- ratchet:lint-ignore RU101 the index is redundant: the primary key covers it\nDROP INDEX ix_t_id;\n-- ratchet:lint-ignore RU101\nDROP INDEX ix_t_a;"},
			[]string{"info RU101", "error line", "error RU101"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{}
			for op, text := range c.files {
				files["versions/002_x_default_"+op+".sql"] = text
			}
			files["versions/001_t_default_upgrade.sql"] = "CREATE TABLE t (id INT, a VARCHAR(20) NOT NULL);"
			r := mustLoad(t, testFS(minimalConfig, files))
			var got []string
			for _, f := range r.LintRolling(2, "postgresql") {
				word, _, _ := strings.Cut(f.Message, " ")
				got = append(got, f.Severity+" "+word)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("findings %q; want %q\n%v", got, c.want, r.LintRolling(2, "postgresql"))
			}
		})
	}
}

// TestLintWindow: a contract that rebuilds a table which a later version of its window
// expands would drop that version's change; a barrier on the later version ends the window.
func TestLintWindow(t *testing.T) {
	files := map[string]string{
		"versions/001_t_default_upgrade.sql":    "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL);",
		"versions/002_b_default_expand.sql":     "ALTER TABLE t ADD COLUMN b TEXT;",
		"versions/002_b_sqlite_contract.sql":    "-- ratchet:lint-ignore RU302 the rebuild that makes b NOT NULL\nCREATE TABLE t_new (id INTEGER PRIMARY KEY, b TEXT NOT NULL);\nINSERT INTO t_new SELECT id, b FROM t;\nDROP TABLE t;\nALTER TABLE t_new RENAME TO t;",
		"versions/003_c_default_expand.sql":     "ALTER TABLE t ADD COLUMN c TEXT;",
		"versions/004_other_default_expand.sql": "CREATE TABLE u (id INTEGER);",
	}
	r := mustLoad(t, testFS(minimalConfig, files))
	var got []string
	for _, f := range r.Lint() {
		if strings.Contains(f.Message, "RU303") {
			got = append(got, f.Path+" "+f.Severity)
		}
	}
	if want := []string{"versions/002_b_sqlite_contract.sql error"}; !slices.Equal(got, want) {
		t.Errorf("RU303 findings %q; want %q", got, want)
	}
	if f := r.LintWindow([]int{2, 3}, "postgresql"); len(f) != 0 {
		t.Errorf("on PostgreSQL, whose contract rebuilds nothing: %v", f)
	}
	files["versions/003_c_default_expand.sql"] = "-- ratchet:barrier\nALTER TABLE t ADD COLUMN c TEXT;"
	r = mustLoad(t, testFS(minimalConfig, files))
	for _, f := range r.Lint() {
		if strings.Contains(f.Message, "RU303") {
			t.Errorf("with a barrier on version 3: %v", f)
		}
	}
}
