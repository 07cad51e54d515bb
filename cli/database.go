package cli

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/dburl"
)

// Driver is a database/sql driver the command line opens databases with: the
// [ratchet.Driver] of one of the packages under drivers/, which also name their
// database/sql driver and their dialect. Give them to [New] with [WithDrivers].
type Driver interface {
	ratchet.Driver
	Name() string             // the database/sql driver name, for sql.Open
	Dialect() dialect.Dialect // the dialect of the databases it opens
}

// database is an open database with its dialect.
type database struct {
	*sql.DB
	dialect     dialect.Dialect
	driver      Driver
	url         *dburl.URL
	lockTimeout time.Duration
	appName     string // application_name of PostgreSQL connections
	// absent is true when the database does not exist yet: an SQLite file not created, or a
	// server database not created. Writing commands check their request first, then create
	// it with [database.create]. For SQLite, DB is meanwhile an empty in-memory database
	// standing in for the file, so that reading commands see an empty database; for a
	// server, reading commands fail and DB is an unused pool.
	absent bool
	// notice receives a line for the operator when a database is created.
	notice func(string)
}

// driverPackage names the package under drivers/ that supports each dialect.
var driverPackage = map[dialect.Dialect]string{dialect.SQLite: "sqlitedriver", dialect.Postgres: "pgxdriver", dialect.MySQL: "mysqldriver"}

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// openDatabase parses the URL and opens the database. Only commands that write may create a
// missing SQLite file, and only through materialize, once their checks have passed.
func openDatabase(ctx context.Context, raw string, drivers []Driver, lockTimeout time.Duration, write bool, appName string) (*database, error) {
	u, err := dburl.Parse(raw)
	if err != nil {
		return nil, usageError(err)
	}
	d, ok := dialect.ByName(u.Dialect)
	if !ok {
		return nil, usageErrorf("%s: unsupported dialect %q", u, u.Dialect)
	}
	var drv Driver
	for _, c := range drivers {
		if c.Dialect() == d {
			drv = c
		}
	}
	if drv == nil {
		// The program's own omission, not the operator's input.
		return nil, fmt.Errorf("%s: this program has no driver for %s databases; it must import github.com/ratchetdb/ratchet/drivers/%s and pass %s.New() to cli.WithDrivers",
			u, d, driverPackage[d], driverPackage[d])
	}
	db := &database{dialect: d, driver: drv, url: u, lockTimeout: lockTimeout, appName: appName}
	if d.Hold() != nil && u.Database != ":memory:" {
		exists, err := checkSQLiteFile(u)
		if err != nil {
			return nil, err
		}
		if !exists {
			db.absent = true
			db.DB, err = sql.Open(drv.Name(), "file::memory:")
			if err != nil {
				return nil, err
			}
			db.SetMaxOpenConns(1)
			return db, nil
		}
	}
	// Reading commands open the file read-write too: after a crash, SQLite must be able to
	// roll back the hot journal before anything can be read.
	err = db.open(ctx)
	if err != nil && db.dialect.UnknownDatabaseCode() != "" && drv.ErrorCode(err) == db.dialect.UnknownDatabaseCode() {
		if !write {
			return nil, fmt.Errorf("database %q does not exist on %s (db sync creates it)", u.Database, u)
		}
		// A pool that is never used until create: the checks before creating need no queries.
		db.absent = true
		db.DB, err = sql.Open(drv.Name(), u.DSN(dburl.DSNOptions{ApplicationName: appName}))
		return db, err
	}
	if err != nil {
		return nil, err
	}
	return db, nil
}

// Close closes the connection pool, if any.
func (db *database) Close() error {
	if db.DB == nil {
		return nil
	}
	return db.DB.Close()
}

// open connects to the real database.
func (db *database) open(ctx context.Context) error {
	conn, err := sql.Open(db.driver.Name(), db.url.DSN(dburl.DSNOptions{BusyTimeout: db.lockTimeout, ApplicationName: db.appName}))
	if err != nil {
		return fmt.Errorf("%s: %w", db.url, err)
	}
	if db.dialect.Hold() != nil {
		// One connection: an in-memory database lives in its connection, and a file is best
		// written through one connection anyway.
		conn.SetMaxOpenConns(1)
	}
	if err := conn.PingContext(ctx); err != nil {
		conn.Close()
		if code := db.dialect.BusyCode(); code != "" && db.driver.ErrorCode(err) == code {
			// Another connection holds the file for longer than the lock timeout: the same
			// error as a migration lock held elsewhere.
			return &ratchet.LockTimeoutError{Timeout: db.lockTimeout, Err: err}
		}
		return fmt.Errorf("cannot connect to %s: %w", db.url, err)
	}
	db.DB = conn
	return nil
}

// create creates the absent database — the SQLite file, or the database on its server — and
// connects to it. Call it only once the command's request has been checked.
func (db *database) create(ctx context.Context) error {
	if !db.absent {
		return nil
	}
	if err := db.Close(); err != nil {
		return err
	}
	if db.dialect.CreatesDatabases() {
		if err := db.createOnServer(ctx); err != nil {
			return err
		}
	}
	db.absent = false
	return db.open(ctx)
}

// createOnServer runs CREATE DATABASE through the server's maintenance database.
func (db *database) createOnServer(ctx context.Context) error {
	admin, err := db.url.WithDatabase(db.dialect.MaintenanceDatabase())
	if err != nil {
		return err
	}
	conn, err := sql.Open(db.driver.Name(), admin.DSN(dburl.DSNOptions{ApplicationName: db.appName}))
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, db.dialect.CreateDatabaseSQL(db.url.Database)); err != nil {
		if db.dialect.DatabaseExists(db.driver.ErrorCode(err)) {
			// Another run created it since we looked (runs started together on a new
			// database): it is there, and the migration lock orders what follows.
			return nil
		}
		return fmt.Errorf("database %q does not exist on %s and cannot be created: %w (create it, or grant the right to create databases)", db.url.Database, db.url, err)
	}
	if db.notice != nil {
		db.notice(fmt.Sprintf("created database %q on %s", db.url.Database, db.url))
	}
	return nil
}

// checkSQLiteFile reports whether the SQLite file exists, and fails with a clear message when
// it is not a usable SQLite database or cannot be created.
func checkSQLiteFile(u *dburl.URL) (bool, error) {
	path := u.Database
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		dir := filepath.Dir(path)
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return false, usageErrorf("%s: cannot create the database file: directory %s does not exist", u, dir)
		}
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%s: cannot read the database file: %w", u, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("%s: %w", u, err)
	}
	if info.IsDir() {
		return false, usageErrorf("%s: %s is a directory, not an SQLite database file", u, path)
	}
	if !info.Mode().IsRegular() {
		// A device such as /dev/null reads as an empty file but keeps nothing written to it.
		return false, usageErrorf("%s: %s is not a regular file (%s), so it cannot hold an SQLite database", u, path, fileKind(info.Mode()))
	}
	header := make([]byte, len(sqliteHeader))
	n, err := io.ReadFull(f, header)
	switch {
	case n == 0 && errors.Is(err, io.EOF):
		return true, nil // an empty file is an empty SQLite database
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return false, fmt.Errorf("%s: cannot read the database file: %w", u, err)
	case !bytes.Equal(header[:n], sqliteHeader):
		return false, usageErrorf("%s: %s is not an SQLite database (no SQLite header); check --database", u, path)
	}
	return true, nil
}

// fileKind names the type of a file that is not a regular one, for messages.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a plain file"
}
