// Package pgxdriver connects ratchet to PostgreSQL through pgx's database/sql adapter
// (driver name "pgx", registered by importing this package).
package pgxdriver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the database/sql driver "pgx"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/dialect"
)

// Driver is ratchet's [ratchet.BatchDriver] for pgx. Its zero value is ready to use.
type Driver struct{}

var (
	_ ratchet.BatchDriver    = Driver{}
	_ ratchet.CopyDriver     = Driver{}
	_ ratchet.ConflictDriver = Driver{}
)

// New returns the driver.
func New() Driver { return Driver{} }

// Name returns the database/sql driver name, for [sql.Open].
func (Driver) Name() string { return "pgx" }

// Dialect returns the dialect of the databases the driver connects to.
func (Driver) Dialect() dialect.Dialect { return dialect.Postgres }

// ErrorCode returns the SQLSTATE of a PostgreSQL error.
func (Driver) ErrorCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// ConnectionLost reports whether err means the session to the server is gone.
func (Driver) ConnectionLost(err error) bool {
	if ratchet.ConnectionLost(err) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P03: the server is shutting down.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	return false
}

// Conflict reports a transaction PostgreSQL rolled back for a serialization failure or a
// deadlock, which changed nothing.
func (Driver) Conflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// ExecBatch sends stmts as one simple-protocol query — one round trip, the statements run as
// psql would run them — and counts the results the server returns, one per completed
// statement, so the first failure names its statement.
func (Driver) ExecBatch(ctx context.Context, conn any, stmts []string) (int, error) {
	c, ok := conn.(interface{ Conn() *pgx.Conn })
	if !ok {
		return 0, fmt.Errorf("pgxdriver: %T is not a pgx connection", conn)
	}
	// A newline before each ";": a statement may end in a -- comment.
	mrr := c.Conn().PgConn().Exec(ctx, strings.Join(stmts, "\n;\n"))
	completed := 0
	for mrr.NextResult() {
		if _, err := mrr.ResultReader().Close(); err != nil {
			_ = mrr.Close() // reads the rest of the response: the same error
			return completed, err
		}
		completed++
	}
	return completed, mrr.Close()
}

// CopyFrom runs a COPY … FROM STDIN with its rows through the COPY protocol, as psql does.
func (Driver) CopyFrom(ctx context.Context, conn any, stmt string, rows io.Reader) error {
	c, ok := conn.(interface{ Conn() *pgx.Conn })
	if !ok {
		return fmt.Errorf("pgxdriver: %T is not a pgx connection", conn)
	}
	_, err := c.Conn().PgConn().CopyFrom(ctx, rows, stmt)
	return err
}
