package backup

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/internal/testdb"
)

// TestPostgresPassword backs up and restores through a server that checks passwords, so the
// password must reach pg_dump, psql and pg_restore's target (PGPASSWORD); a wrong one fails
// with the server's message and without showing the password.
func TestPostgresPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := testdb.NewServer(t, "postgresql")
	db := s.NewDB(t)
	execAll(t, db.DB, "CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100))",
		"INSERT INTO items (id, name) VALUES (1, 'plain')")
	tg := target(t, db.URL, db.DB)
	if tg.Password == "" {
		t.Fatalf("the private server's URL %s has no password", db.URL)
	}
	path := filepath.Join(t.TempDir(), "b"+Extension)
	if _, err := Create(ctx, tg, path, Info{RepositoryID: "repo"}); err != nil {
		t.Fatal(err)
	}
	execAll(t, db.DB, "DELETE FROM items")
	if _, err := Restore(ctx, tg, path, "repo"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.DB.QueryRow("SELECT count(*) FROM items").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after restore: %d rows, %v; want 1", n, err)
	}

	wrong := tg
	wrong.Password = "Wr0ng-" + tg.Password
	_, err := Create(ctx, wrong, filepath.Join(t.TempDir(), "c"+Extension), Info{RepositoryID: "repo"})
	if !errors.Is(err, ErrToolFailed) || !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("wrong password: err = %v, want pg_dump's authentication failure", err)
	}
	if strings.Contains(err.Error(), wrong.Password) {
		t.Errorf("the error shows the password: %v", err)
	}
}

// TestPostgresRestoreIsAtomic makes a restore fail part way (the backup names an owner that no
// longer exists) and checks that the database is as it was: the emptying and the restore are
// one transaction.
func TestPostgresRestoreIsAtomic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t, "postgresql")
	role := fmt.Sprintf("ratchet_t_owner_%d", time.Now().UnixNano()) // roles belong to the whole server
	admin := testdb.Admin(t, "postgresql")
	execAll(t, admin, "DROP ROLE IF EXISTS "+role, "CREATE ROLE "+role)
	t.Cleanup(func() { admin.Exec("DROP ROLE IF EXISTS " + role) })
	execAll(t, db.DB, "CREATE TABLE owned (id INTEGER)", "ALTER TABLE owned OWNER TO "+role)
	tg := target(t, db.URL, db.DB)
	path := filepath.Join(t.TempDir(), "b"+Extension)
	if _, err := Create(ctx, tg, path, Info{RepositoryID: "repo"}); err != nil {
		t.Fatal(err)
	}
	execAll(t, db.DB, "DROP TABLE owned", "CREATE TABLE kept (id INTEGER)", "INSERT INTO kept VALUES (1)")
	execAll(t, admin, "DROP ROLE "+role)

	_, err := Restore(ctx, tg, path, "repo")
	if !errors.Is(err, ErrToolFailed) || !strings.Contains(err.Error(), "psql failed") || !strings.Contains(err.Error(), role) {
		t.Fatalf("err = %v, want psql's error about role %s", err, role)
	}
	if got := contentsOf(t, tg); len(got) != 1 || got[0] != "kept" {
		t.Errorf("after the failed restore, Contents = %v, want [kept]", got)
	}
}
