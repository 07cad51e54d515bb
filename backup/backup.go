package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
)

// Querier is what backups need of a database handle: *sql.DB and *sql.Conn have it.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Database is the database a backup is taken from or restored into, and how the external
// tools reach it. The zero values of the connection fields mean the tools' defaults.
type Database struct {
	// Dialect is [dialect.SQLite], [dialect.Postgres] or [dialect.MySQL].
	Dialect dialect.Dialect
	// DB is an open pool or connection on the database. SQLite backups run VACUUM INTO on
	// it (a connection that holds the file's lock can back it up); [Contents] queries it;
	// restores into MySQL/MariaDB drop the database's objects through it. Restores into
	// SQLite and PostgreSQL do not use it.
	DB Querier
	// Name is the SQLite file path, or the database's name on its server.
	Name string
	// Host, Port and User reach a server.
	Host, Port, User string
	// Password is handed to the tools in their environment (PGPASSWORD, MYSQL_PWD), never on
	// their command line, and is removed from their messages.
	Password string
	// Socket is the unix socket of a MySQL/MariaDB server; empty means TCP to Host:Port.
	Socket string
	// Params are further libpq connection keywords for PostgreSQL (sslmode, sslrootcert, …),
	// passed to pg_dump and psql; a "password" entry is treated as Password.
	Params map[string]string
}

// method is how backups of one dialect are taken and restored.
type method interface {
	// payload is the name of the payload entry in the backup file.
	payload() string
	// dump writes a consistent copy of the database to w and returns a description of the
	// tool that made it. dir is a directory on the backup's file system for temporary files.
	dump(ctx context.Context, db Database, w io.Writer, dir string) (string, error)
	// restore replaces the database's content with the payload read from r.
	restore(ctx context.Context, db Database, r io.Reader) error
	// check fails, without changing anything, where restore would fail before it reads
	// the payload: a missing tool, an SQLite database in use.
	check(db Database) error
	// contents lists the database's tables and views.
	contents(ctx context.Context, db Database) ([]string, error)
}

// methodFor returns the backup method of a dialect. It is the one place that maps the
// dialects to their tools.
func methodFor(d dialect.Dialect) (method, error) {
	switch d {
	case dialect.SQLite:
		return sqliteMethod{}, nil
	case dialect.Postgres:
		return postgresMethod{}, nil
	case dialect.MySQL:
		return mysqlMethod{}, nil
	case 0:
		return nil, errors.New("backup: no dialect given")
	}
	return nil, fmt.Errorf("backup: dialect %v has no backup method", d)
}

// Create writes a consistent backup of db, which may be in use, to the new file path: the
// dump is streamed into a temporary file (mode 0600) in path's directory, the manifest
// (see [Manifest]) is appended, the file is synced, read back and checked as [Verify] does,
// and only then published under path. Create never replaces an existing file, even one
// that appears while it runs (the error wraps [fs.ErrExist]); when it fails — a dump tool
// error, a full disk, a cancelled ctx — no file is left behind. A missing or outdated dump
// tool is a [*ToolError].
func Create(ctx context.Context, db Database, path string, info Info) (*Manifest, error) {
	if err := checkFree(path); err != nil {
		return nil, err
	}
	_, man, err := create(ctx, db, info, func(n int) (string, bool) { return path, n == 0 })
	return man, err
}

// CreateIn writes a backup as [Create] does, in directory dir under its default name
// ([FileName] of the database, the version and the time of the backup), or when that
// name is taken — several backups of the same version within a second — under that name
// with "-2", "-3", … before its extension. Concurrent backups into one directory thus all
// succeed, each under a name of its own, and none replaces another. It returns the path.
func CreateIn(ctx context.Context, db Database, dir string, info Info) (string, *Manifest, error) {
	if info.CreatedAt.IsZero() {
		info.CreatedAt = time.Now()
	}
	name := FileName(db.Name, info.Version, info.CreatedAt)
	stem := strings.TrimSuffix(name, Extension)
	return create(ctx, db, info, func(n int) (string, bool) {
		if n == 0 {
			return filepath.Join(dir, name), true
		}
		return filepath.Join(dir, fmt.Sprintf("%s-%d%s", stem, n+1, Extension)), n < maxNameTries
	})
}

// maxNameTries bounds the names CreateIn tries.
const maxNameTries = 1000

// create writes the backup and publishes it under the first free name of names(0),
// names(1), … up to the first one whose ok is false (see [Create]).
func create(ctx context.Context, db Database, info Info, names func(n int) (path string, ok bool)) (string, *Manifest, error) {
	m, err := methodFor(db.Dialect)
	if err != nil {
		return "", nil, err
	}
	path, _ := names(0)
	w, err := newArchiveWriter(path)
	if err != nil {
		return "", nil, fmt.Errorf("cannot write the backup %s: %w", path, err)
	}
	published := false
	defer func() {
		if !published {
			w.discard()
		}
	}()
	created := info.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	tool, err := m.dump(ctx, db, w, filepath.Dir(path))
	if w.err != nil {
		err = w.err // the disk failed first: the tool's own error is only the consequence
	}
	if err != nil {
		return "", nil, fmt.Errorf("backup of %s to %s failed, no file written: %w", db.Name, path, err)
	}
	man := &Manifest{
		Format:         Format,
		Dialect:        db.Dialect.Name(),
		Database:       db.Name,
		RepositoryID:   info.RepositoryID,
		Version:        info.Version,
		RatchetVersion: info.RatchetVersion,
		CreatedAt:      created.UTC().Truncate(time.Second),
		Tool:           tool,
		Payload:        m.payload(),
	}
	if err := w.finish(man); err != nil {
		return "", nil, fmt.Errorf("backup of %s to %s failed, no file written: %w", db.Name, path, err)
	}
	if _, err := Verify(w.tmp); err != nil {
		return "", nil, fmt.Errorf("backup of %s to %s failed its verification, no file written: %w", db.Name, path, err)
	}
	for n := 0; ; n++ {
		dest, ok := names(n)
		if !ok {
			break
		}
		err = publish(w.tmp, dest)
		if errors.Is(err, fs.ErrExist) {
			continue // taken meanwhile, by a concurrent backup: try the next name
		}
		if err != nil {
			return "", nil, fmt.Errorf("backup of %s to %s failed, no file written: %w", db.Name, dest, err)
		}
		published = true
		return dest, man, nil
	}
	return "", nil, fmt.Errorf("backup of %s to %s failed, no file written: %w", db.Name, path, err)
}

// Restore replaces the content of db with the backup at path and returns its manifest.
//
// Before anything changes, it reads the whole file and checks it as [Verify] does, then
// checks that it is a backup of db's dialect for the repository repositoryID
// ([Manifest.CheckTarget]). It then replaces, per dialect:
//   - SQLite: the payload is written to a temporary file beside the database file, synced,
//     and renamed over it: the database is either the old one or the restored one. Close
//     every connection to the database first; a database whose -wal or -journal file holds
//     changes is refused ([ErrInUse]).
//   - PostgreSQL: in one transaction run by psql, every object outside the system schemas is
//     dropped and the pg_restore script is run: on any error nothing changes.
//   - MySQL/MariaDB: the database's views, tables, routines and events are dropped and the
//     dump is run by the mariadb (or mysql) client. MySQL cannot roll DDL back, so a restore
//     that fails part way leaves the database incomplete until it is restored again.
//
// Restoring as the database's owner, or as a superuser, keeps the objects' owners.
func Restore(ctx context.Context, db Database, path, repositoryID string) (*Manifest, error) {
	m, err := methodFor(db.Dialect)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	man, err := verify(path, f)
	if err != nil {
		return nil, err
	}
	if err := man.CheckTarget(path, db.Dialect, repositoryID); err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	r, err := payloadReader(path, f)
	if err != nil {
		return nil, err
	}
	if err := m.restore(ctx, db, r); err != nil {
		return nil, fmt.Errorf("restoring %s into %s: %w", path, db.Name, err)
	}
	return man, nil
}

// CheckRestore reports, without changing anything, what would make a restore into db fail
// before it reads the backup: a missing restore tool ([*ToolError]), an SQLite database in
// use ([ErrInUse]). [Restore] checks the same; a caller that must prepare the target, say
// create the database, checks first so that a refused restore leaves nothing behind.
func CheckRestore(db Database) error {
	m, err := methodFor(db.Dialect)
	if err != nil {
		return err
	}
	return m.check(db)
}

// Contents lists the tables and views of db that a restore would replace, sorted by bytes
// ("schema.name" on PostgreSQL, where every schema but the system ones counts). It is empty
// for an empty database.
func Contents(ctx context.Context, db Database) ([]string, error) {
	m, err := methodFor(db.Dialect)
	if err != nil {
		return nil, err
	}
	if db.DB == nil {
		return nil, errors.New("backup: Contents: no *sql.DB")
	}
	names, err := m.contents(ctx, db)
	slices.Sort(names) // byte order, whatever the database's collation
	return names, err
}

// ctxReader stops reading once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read reads from the underlying reader unless the context is done.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
