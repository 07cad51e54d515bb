package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// reviewRepo writes a repository with files (name → content) under versions/ and returns its
// directory and an SQLite database URL beside it.
func reviewRepo(t *testing.T, files map[string]string) (repo, url string) {
	t.Helper()
	dir := t.TempDir()
	repo = filepath.Join(dir, "repo")
	if err := os.MkdirAll(filepath.Join(repo, "versions"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "migrate.cfg"), []byte("[db_settings]\nrepository_id=r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(repo, "versions", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return repo, "sqlite:///" + filepath.Join(dir, "app.db")
}

// TestReviewOnlineBlockAfterByteOrderMark: an expand script saved with a UTF-8 byte order
// mark and an online block runs like the same script without the mark.
func TestReviewOnlineBlockAfterByteOrderMark(t *testing.T) {
	const expand = "CREATE TABLE t (a INTEGER);\n" +
		"-- ratchet:online begin\n" +
		"CREATE TRIGGER ratchet_v001_t_ai AFTER INSERT ON t BEGIN SELECT 1; END;\n" +
		"-- ratchet:online end\n"
	const contract = "DROP TRIGGER IF EXISTS ratchet_v001_t_ai;\n"
	for _, bom := range []string{"", "\uFEFF"} {
		repo, url := reviewRepo(t, map[string]string{
			"001_a_default_expand.sql":   bom + expand,
			"001_a_default_contract.sql": contract,
		})
		res := runRatchet(t, "--repository", repo, "--database", url, "db", "expand")
		if res.code != 0 {
			t.Errorf("byte order mark %q: %s\nwant exit 0", bom, res)
		}
	}
}

// TestReviewCheckSeesExpandModifiedInWindow: an expand part that ran and was then edited is
// an applied script modified, which db check reports with exit 1, also while the window that
// ran it is open.
func TestReviewCheckSeesExpandModifiedInWindow(t *testing.T) {
	repo, url := reviewRepo(t, map[string]string{
		"001_a_default_upgrade.sql":  "CREATE TABLE t (a INTEGER);\n",
		"002_b_default_expand.sql":   "ALTER TABLE t ADD COLUMN b INTEGER;\n",
		"002_b_default_contract.sql": "CREATE INDEX t_b ON t (b);\n",
	})
	run := func(want int, args ...string) cmdResult {
		t.Helper()
		res := runRatchet(t, append([]string{"--repository", repo, "--database", url}, args...)...)
		if res.code != want {
			t.Fatalf("%s\nwant exit %d", res, want)
		}
		return res
	}
	run(0, "db", "sync", "1")
	run(0, "db", "expand")
	run(0, "db", "migrate")
	run(5, "db", "check")
	path := filepath.Join(repo, "versions", "002_b_default_expand.sql")
	if err := os.WriteFile(path, []byte("ALTER TABLE t ADD COLUMN c INTEGER;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(1, "db", "check")
}

// TestReviewRefusedPhaseCreatesNoDatabase: a phase command refused before anything runs — a
// version the repository lacks, a migrate or contract before any expand — leaves a database
// that does not exist as it found it: not created.
func TestReviewRefusedPhaseCreatesNoDatabase(t *testing.T) {
	repo, url := reviewRepo(t, map[string]string{
		"001_a_default_expand.sql":   "CREATE TABLE t (a INTEGER);\n",
		"001_a_default_contract.sql": "CREATE INDEX t_a ON t (a);\n",
	})
	file := strings.TrimPrefix(url, "sqlite:///")
	for _, c := range []struct {
		code int
		args []string
	}{
		{2, []string{"db", "expand", "99"}},
		{1, []string{"db", "migrate"}},
		{1, []string{"db", "contract"}},
	} {
		res := runRatchet(t, append([]string{"--repository", repo, "--database", url}, c.args...)...)
		if res.code != c.code {
			t.Errorf("%s\nwant exit %d", res, c.code)
		}
		if _, err := os.Stat(file); err == nil {
			t.Errorf("%s: created %s", strings.Join(c.args, " "), file)
			os.Remove(file)
		}
	}
}
