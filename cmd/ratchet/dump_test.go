package main

import (
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// The tests in this file apply a dump written by the database's own dump tool as a version,
// and require the schema and rows it leaves to be the ones the database's own client leaves
// from the same file: a baseline taken from an existing database is the common first
// version, and the dump changes its session (search_path, SQL mode, character set) on the
// way, and on PostgreSQL sends its rows through COPY … FROM stdin.

// dumpSchemas are the source schemas, rich enough to hit what dumps do: types, sequences,
// identities, functions and triggers with their own terminators, views, comments, keys.
var dumpSchemas = map[string][]string{
	"postgresql": {
		"CREATE TYPE mood AS ENUM ('sad', 'ok')",
		"CREATE TABLE a (id serial PRIMARY KEY, name text NOT NULL DEFAULT 'x', m mood)",
		"CREATE INDEX a_name ON a (lower(name))",
		"CREATE TABLE b (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, a_id integer REFERENCES a(id) ON DELETE CASCADE)",
		"CREATE VIEW v AS SELECT id, upper(name) AS n FROM a",
		"CREATE FUNCTION up() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.name := upper(NEW.name); RETURN NEW; END; $$",
		"CREATE TRIGGER tr BEFORE INSERT ON a FOR EACH ROW EXECUTE FUNCTION up()",
		"COMMENT ON TABLE a IS 'the a''s; with a semicolon'",
		"CREATE SCHEMA extra",
		"CREATE TABLE extra.c (id int, CONSTRAINT c_pos CHECK (id > 0))",
		// pg_dump writes rows as COPY … FROM stdin followed by the data and a \. line.
		"INSERT INTO a (name, m) VALUES ('tab\there', 'ok'), (E'back\\\\slash; semi', NULL), ('\\.', 'sad')",
		"INSERT INTO b (a_id) SELECT id FROM a",
		"INSERT INTO extra.c VALUES (1), (2)",
	},
	"mysql": {
		"CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL DEFAULT 'x;y', KEY k_name (name)) CHARSET=utf8mb4",
		"CREATE TABLE b (id INT PRIMARY KEY AUTO_INCREMENT, a_id INT, CONSTRAINT fk FOREIGN KEY (a_id) REFERENCES a(id)) CHARSET=utf8mb4",
		"CREATE VIEW v AS SELECT id FROM a",
		"CREATE TRIGGER tr BEFORE INSERT ON a FOR EACH ROW SET NEW.name = UPPER(NEW.name)",
		"CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END",
		"CREATE FUNCTION f(x INT) RETURNS INT DETERMINISTIC BEGIN DECLARE y INT; SET y = x * 2; RETURN y; END",
		"INSERT INTO a VALUES (1, 'semi; colon'), (2, 'q '' \\\\ b')",
		"INSERT INTO b (a_id) VALUES (1), (2)",
	},
}

func TestDumpAppliedAsVersionMatchesClient(t *testing.T) {
	for _, name := range []string{"postgresql", "mysql"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src := testdb.New(t, name)
			for _, stmt := range dumpSchemas[name] {
				if _, err := src.DB.Exec(stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			dump := dumpSchema(t, name, src, false)

			viaRatchet := testdb.New(t, name)
			repo := writeRepo(t, map[string]string{"001_baseline_" + name + "_upgrade.sql": dump})
			if code, stdout, stderr := ratchet(t, "--repository", repo, "--database", viaRatchet.URL, "db", "sync"); code != 0 {
				t.Fatalf("db sync of the dump exited %d\nstdout:\n%sstderr:\n%s", code, stdout, stderr)
			}
			viaClient := testdb.New(t, name)
			runClient(t, name, viaClient, dump)

			got, want := dumpSchema(t, name, viaRatchet, true), dumpSchema(t, name, viaClient, true)
			got = strings.ReplaceAll(got, viaRatchet.Name, "DB")
			want = strings.ReplaceAll(want, viaClient.Name, "DB")
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("catalog after db sync differs from the client's (-client +ratchet):\n%s", d)
			}
		})
	}
}

// clientArgs returns the connection arguments of the database's own tools for tdb.
func clientArgs(t *testing.T, name string, tdb *testdb.DB) []string {
	t.Helper()
	u, err := url.Parse(tdb.URL)
	if err != nil {
		t.Fatal(err)
	}
	if name == "postgresql" {
		return []string{"-h", u.Hostname(), "-p", u.Port(), "-U", u.User.Username(), "-d", tdb.Name}
	}
	return []string{"-h", u.Hostname(), "-P", u.Port(), "-u", u.User.Username(), tdb.Name}
}

// dumpVariance is what differs between two dumps of the same schema: pg_dump's random
// \restrict key.
var dumpVariance = regexp.MustCompile(`(?m)^\\(un)?restrict \S+$`)

// dumpSchema returns the dump (schema and rows) of tdb; compare leaves ratchet's
// bookkeeping and comments out, for comparing two databases.
func dumpSchema(t *testing.T, name string, tdb *testdb.DB, compare bool) string {
	t.Helper()
	var cmd *exec.Cmd
	if name == "postgresql" {
		args := []string{"--no-owner", "--no-privileges"}
		if compare {
			args = append(args, "--exclude-table=public.migrate_version", "--exclude-table=public.ratchet_*")
		}
		cmd = exec.Command("pg_dump", append(args, clientArgs(t, name, tdb)...)...)
	} else {
		args := []string{"--routines", "--triggers", "--events", "--skip-comments", "--skip-dump-date"}
		if compare {
			for _, tb := range []string{"migrate_version", "ratchet_history", "ratchet_journal"} {
				args = append(args, "--ignore-table="+tdb.Name+"."+tb)
			}
		}
		cmd = exec.Command("mariadb-dump", append(args, clientArgs(t, name, tdb)...)...)
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	if compare {
		return dumpVariance.ReplaceAllString(string(out), `\$1restrict KEY`)
	}
	return string(out)
}

// runClient applies script to tdb with the database's own client, stopping at the first
// error.
func runClient(t *testing.T, name string, tdb *testdb.DB, script string) {
	t.Helper()
	var cmd *exec.Cmd
	if name == "postgresql" {
		cmd = exec.Command("psql", append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1"}, clientArgs(t, name, tdb)...)...)
	} else {
		cmd = exec.Command("mariadb", clientArgs(t, name, tdb)...)
	}
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
}
