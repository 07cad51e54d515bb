// Package sqlitedriver connects ratchet to SQLite through modernc.org/sqlite, in pure Go
// (driver name "sqlite", registered by importing this package).
package sqlitedriver

import (
	"errors"
	"strconv"

	"modernc.org/sqlite"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/dialect"
)

// Driver is ratchet's [ratchet.Driver] for modernc.org/sqlite. A round trip to an
// embedded database costs nothing, so statements run one per Exec and each failure is known
// at once: it is no [ratchet.BatchDriver]. Its zero value is ready to use.
type Driver struct{}

var _ ratchet.Driver = Driver{}

// New returns the driver.
func New() Driver { return Driver{} }

// Name returns the database/sql driver name, for [sql.Open].
func (Driver) Name() string { return "sqlite" }

// Dialect returns the dialect of the databases the driver opens.
func (Driver) Dialect() dialect.Dialect { return dialect.SQLite }

// ErrorCode returns the SQLite result code of an error (5 for SQLITE_BUSY).
func (Driver) ErrorCode(err error) string {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return strconv.Itoa(se.Code())
	}
	return ""
}

// ConnectionLost is false but for database/sql's own errors: an embedded database has no
// session to lose.
func (Driver) ConnectionLost(err error) bool { return ratchet.ConnectionLost(err) }
