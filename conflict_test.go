package ratchet_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/drivers/mysqldriver"
	"github.com/ratchetdb/ratchet/drivers/pgxdriver"
)

// TestDriversKnowConflicts: the server drivers take a deadlock (MySQL 1213, also how Galera
// reports a failed certification) and PostgreSQL's serialization failures and deadlocks for
// conflicts, wrapped or not, and nothing else.
func TestDriversKnowConflicts(t *testing.T) {
	for _, c := range []struct {
		driver ratchet.ConflictDriver
		err    error
		want   bool
	}{
		{mysqldriver.New(), &mysql.MySQLError{Number: 1213, Message: "Deadlock found when trying to get lock"}, true},
		{mysqldriver.New(), fmt.Errorf("committing: %w", &mysql.MySQLError{Number: 1213}), true},
		{mysqldriver.New(), &mysql.MySQLError{Number: 1062, Message: "Duplicate entry"}, false},
		{mysqldriver.New(), errors.New("1213"), false},
		{pgxdriver.New(), &pgconn.PgError{Code: "40001"}, true},
		{pgxdriver.New(), fmt.Errorf("x: %w", &pgconn.PgError{Code: "40P01"}), true},
		{pgxdriver.New(), &pgconn.PgError{Code: "23505"}, false},
	} {
		if got := c.driver.Conflict(c.err); got != c.want {
			t.Errorf("%T.Conflict(%v) = %v, want %v", c.driver, c.err, got, c.want)
		}
	}
}
