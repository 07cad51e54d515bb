package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMissingDriver checks that a program built on this package without a database's
// driver says which import it lacks, instead of database/sql's bare "unknown driver".
// The App here is given no drivers.
func TestMissingDriver(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	if err := os.MkdirAll(filepath.Join(repo, "versions"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "migrate.cfg"), []byte("[db_settings]\nrepository_id=x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ url, want string }{
		{"postgresql://glance:secret@db/glance", `glance-manage: postgresql://glance:xxxxx@db/glance: this program has no driver for postgresql databases; it must import github.com/ratchetdb/ratchet/drivers/pgxdriver and pass pgxdriver.New() to cli.WithDrivers`},
		{"mysql+pymysql://glance@db/glance", `no driver for mysql databases; it must import github.com/ratchetdb/ratchet/drivers/mysqldriver and pass mysqldriver.New() to cli.WithDrivers`},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := New(WithName("glance-manage")).Run(context.Background(), []string{"--repository", repo, "--database", tt.url, "db", "version"}, &stdout, &stderr)
		if code != ExitFailed || !strings.Contains(stderr.String(), tt.want) || strings.Contains(stderr.String(), "secret") {
			t.Errorf("db version on %s: exit %d, stderr %q; want exit 1 and %q", tt.url, code, stderr.String(), tt.want)
		}
	}
}
