package ratchet

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
)

// Driver tells the engine what database/sql does not say about a database driver: the
// database's own error codes and whether a session was lost. The packages under drivers/
// provide one per supported driver; give it to [New] with [WithDriver]. Implementations must
// be safe for concurrent use.
type Driver interface {
	// ErrorCode returns the database's own code for err — a PostgreSQL SQLSTATE, an SQLite
	// or MySQL error number — or "" if err carries none.
	ErrorCode(err error) string
	// ConnectionLost reports whether err means that the session to the server is gone, so
	// that what it was running may or may not have completed.
	ConnectionLost(err error) bool
}

// BatchDriver is a [Driver] that runs several statements in one round trip and still says
// which one failed, so that a version's statements go to the server together without ever
// being run twice to find a failure.
type BatchDriver interface {
	Driver
	// ExecBatch runs stmts in order on conn, a driver connection as [sql.Conn.Raw] passes
	// it, each as its own Exec would (inside the transaction open on the session, if any),
	// stopping at the first failure. It returns how many statements completed before that
	// failure, and the failure. The engine calls it only when the connection accepts several
	// statements per Exec (see [dialect.Dialect.MultiStatementProbe]) and never with an
	// empty statement.
	ExecBatch(ctx context.Context, conn any, stmts []string) (completed int, err error)
}

// ConflictDriver is a [Driver] that recognises a transaction the database rolled back
// because it conflicted with another one — a deadlock, a Galera cluster's certification
// failure — which changed nothing and can run again. ratchet runs its own bookkeeping again
// after such a conflict rather than failing the run.
type ConflictDriver interface {
	Driver
	// Conflict reports whether err is such a rollback.
	Conflict(err error) bool
}

// CopyDriver is a [Driver] that runs a COPY … FROM STDIN with the rows that follow it in a
// script (as pg_dump writes them) through the database's COPY protocol, as psql does. Without
// one, such a script is refused before anything runs.
type CopyDriver interface {
	Driver
	// CopyFrom runs stmt, a COPY … FROM STDIN, on conn, a driver connection as
	// [sql.Conn.Raw] passes it, with the rows read from rows in the statement's format.
	CopyFrom(ctx context.Context, conn any, stmt string, rows io.Reader) error
}

// genericDriver is the Driver of a Migrator made without [WithDriver]: it finds error codes
// through the methods drivers commonly implement and knows the errors database/sql and the
// network report for a lost session. Statements then run one per Exec.
type genericDriver struct{}

func (genericDriver) ErrorCode(err error) string {
	var state interface{ SQLState() string }
	if errors.As(err, &state) {
		return state.SQLState()
	}
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		return fmt.Sprint(coded.Code())
	}
	return ""
}

func (genericDriver) ConnectionLost(err error) bool { return ConnectionLost(err) }

// ConnectionLost reports whether err is one of the errors by which database/sql, the network
// or the operating system say that a session is gone. Drivers add their own ([Driver]).
func ConnectionLost(err error) bool {
	var netErr net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &netErr)
}
