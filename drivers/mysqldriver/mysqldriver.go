// Package mysqldriver connects ratchet to MySQL and MariaDB through go-sql-driver/mysql
// (driver name "mysql", registered by importing this package).
package mysqldriver

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/dialect"
)

// Driver is ratchet's [ratchet.BatchDriver] for go-sql-driver/mysql. Its zero value is
// ready to use.
type Driver struct{}

var (
	_ ratchet.BatchDriver    = Driver{}
	_ ratchet.ConflictDriver = Driver{}
)

// New returns the driver.
func New() Driver { return Driver{} }

// Name returns the database/sql driver name, for [sql.Open].
func (Driver) Name() string { return "mysql" }

// Dialect returns the dialect of the databases the driver connects to.
func (Driver) Dialect() dialect.Dialect { return dialect.MySQL }

// ErrorCode returns the error number of a MySQL or MariaDB error.
func (Driver) ErrorCode(err error) string {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return strconv.Itoa(int(me.Number))
	}
	return ""
}

// ConnectionLost reports whether err means the session to the server is gone.
func (Driver) ConnectionLost(err error) bool {
	if ratchet.ConnectionLost(err) || errors.Is(err, mysql.ErrInvalidConn) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1053, 2006, 2013: // server shutdown in progress; server has gone away; lost connection
			return true
		}
	}
	return false
}

// Conflict reports a transaction the server rolled back for a deadlock, which is also how a
// Galera cluster reports a transaction that lost certification against another node's
// (ER_LOCK_DEADLOCK, 1213): it changed nothing.
func (Driver) Conflict(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1213
}

// marker is the session variable that counts, during a batch, the statements completed.
const marker = "@ratchet_completed"

// ExecBatch sends stmts in one multi-statement Exec, with a statement after each one that
// counts it in a session variable; when the server stops at a failing statement, the
// variable says how many completed before it. User variables are not transactional, so the
// count survives the rollback of the statements it counts. The connection must accept
// several statements per Exec (multiStatements=true).
func (Driver) ExecBatch(ctx context.Context, conn any, stmts []string) (int, error) {
	ex, ok := conn.(driver.ExecerContext)
	q, qok := conn.(driver.QueryerContext)
	if !ok || !qok {
		return 0, fmt.Errorf("mysqldriver: %T cannot run queries", conn)
	}
	var b strings.Builder
	b.WriteString("SET " + marker + " = 0")
	for i, st := range stmts {
		// A newline before each ";": a statement may end in a -- or # comment.
		b.WriteString(";\n")
		b.WriteString(st)
		if i < len(stmts)-1 {
			fmt.Fprintf(&b, "\n;\nSET %s = %d", marker, i+1)
		}
	}
	_, err := ex.ExecContext(ctx, b.String(), nil)
	if err == nil {
		return len(stmts), nil
	}
	if ctx.Err() != nil || (Driver{}).ConnectionLost(err) {
		return 0, err // no session left to ask; nothing is known to have completed
	}
	rows, qerr := q.QueryContext(ctx, "SELECT "+marker, nil)
	if qerr != nil {
		return 0, errors.Join(err, qerr)
	}
	defer rows.Close()
	vals := make([]driver.Value, 1)
	if qerr := rows.Next(vals); qerr != nil {
		return 0, errors.Join(err, qerr)
	}
	n, perr := strconv.Atoi(fmt.Sprint(asString(vals[0])))
	if perr != nil || n < 0 || n >= len(stmts) {
		return 0, errors.Join(err, fmt.Errorf("mysqldriver: cannot tell which statement failed (%s = %v)", marker, vals[0]))
	}
	return n, err
}

// asString turns a driver value read as bytes into a string.
func asString(v driver.Value) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}
