package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
)

// Database is the database a backup is taken from or restored into, and how the external
// tools reach it. The zero values of the connection fields mean the tools' defaults.
type Database struct {
	// Dialect is [dialect.SQLite], [dialect.Postgres] or [dialect.MySQL].
	Dialect dialect.Dialect
	// DB is an open pool on the database. SQLite backups run VACUUM INTO on it; [Contents]
	// queries it; restores into MySQL/MariaDB drop the database's objects through it.
	// Restores into SQLite and PostgreSQL do not use it.
	DB *sql.DB
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
// and only then renamed to path. Create never replaces an existing file (the error wraps
// [fs.ErrExist]); when it fails — a dump tool error, a full disk, a cancelled ctx — no file
// is left behind. A missing or outdated dump tool is a [*ToolError].
func Create(ctx context.Context, db Database, path string, info Info) (*Manifest, error) {
	m, err := methodFor(db.Dialect)
	if err != nil {
		return nil, err
	}
	if err := checkFree(path); err != nil {
		return nil, err
	}
	w, err := newArchiveWriter(path)
	if err != nil {
		return nil, fmt.Errorf("cannot write the backup %s: %w", path, err)
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
		return nil, fmt.Errorf("backup of %s to %s failed, no file written: %w", db.Name, path, err)
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
		return nil, fmt.Errorf("backup of %s to %s failed, no file written: %w", db.Name, path, err)
	}
	if _, err := Verify(w.tmp); err != nil {
		return nil, fmt.Errorf("backup of %s to %s failed its verification, no file written: %w", db.Name, path, err)
	}
	if err := publish(w.tmp, path); err != nil {
		return nil, fmt.Errorf("backup of %s to %s failed, no file written: %w", db.Name, path, err)
	}
	published = true
	return man, nil
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
