package testdb

import (
	"context"
	"net/url"
	"testing"
)

// TestServerCrashKeepsCommittedWork kills a private server while a transaction is open: after
// the restart the committed row is there and the uncommitted one is not; a clean stop and
// start keeps the data too.
func TestServerCrashKeepsCommittedWork(t *testing.T) {
	for _, name := range []string{"postgresql", "mysql"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(t, name)
			tdb := s.NewDB(t)
			if _, err := tdb.DB.Exec("CREATE TABLE kept (n INTEGER)"); err != nil {
				t.Fatal(err)
			}
			if _, err := tdb.DB.Exec("INSERT INTO kept VALUES (1)"); err != nil {
				t.Fatal(err)
			}
			tx, err := tdb.DB.BeginTx(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec("INSERT INTO kept VALUES (2)"); err != nil {
				t.Fatal(err)
			}
			s.Kill(t)
			if err := tx.Commit(); err == nil {
				t.Fatal("a transaction committed on a killed server")
			}
			s.Start(t)
			assertRows(t, s.DatabaseURL(tdb.Name), 1)
			s.Stop(t)
			s.Start(t)
			assertRows(t, s.DatabaseURL(tdb.Name), 1)
		})
	}
}

// assertRows checks that table kept holds exactly one row, n = want, reading through a new
// pool (the old one's connections died with the server).
func assertRows(t *testing.T, dbURL string, want int) {
	t.Helper()
	db := Open(t, dbURL)
	defer db.Close()
	var count, n int
	if err := db.QueryRow("SELECT count(*), max(n) FROM kept").Scan(&count, &n); err != nil {
		t.Fatal(err)
	}
	if count != 1 || n != want {
		t.Errorf("kept has %d rows, max %d; want one row, %d", count, n, want)
	}
}

// TestPostgresServerChecksPasswords makes sure the private PostgreSQL server rejects a wrong
// password over TCP, which the shared server (trust authentication) does not.
func TestPostgresServerChecksPasswords(t *testing.T) {
	t.Parallel()
	s := NewServer(t, "postgresql")
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(s.User, s.Password+"-wrong")
	db := Open(t, u.String())
	if err := db.Ping(); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if err := Open(t, s.URL).Ping(); err != nil {
		t.Fatalf("the right password was refused: %v", err)
	}
}
