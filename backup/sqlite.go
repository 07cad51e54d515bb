package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ratchetdb/ratchet/internal/sqlrows"
)

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// sqliteMethod backs up with VACUUM INTO, a consistent snapshot taken in a read transaction,
// and restores by replacing the database file.
type sqliteMethod struct{}

func (sqliteMethod) payload() string { return "payload.sqlite" }

// dump writes the snapshot to a temporary file in dir, then copies it to w.
func (sqliteMethod) dump(ctx context.Context, db Database, w io.Writer, dir string) (string, error) {
	if db.DB == nil {
		return "", errors.New("backup: an SQLite backup needs an open *sql.DB")
	}
	tmp, err := os.CreateTemp(dir, ".ratchet-snapshot-*.sqlite")
	if err != nil {
		return "", err
	}
	name := tmp.Name()
	tmp.Close()
	defer os.Remove(name)
	// VACUUM INTO accepts an existing empty file.
	if _, err := db.DB.ExecContext(ctx, "VACUUM INTO ?", name); err != nil {
		return "", fmt.Errorf("VACUUM INTO %s: %w", name, err)
	}
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(w, ctxReader{ctx, f}); err != nil {
		return "", err
	}
	var version string
	if err := db.DB.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&version); err != nil {
		return "", err
	}
	return "SQLite " + version + " VACUUM INTO", nil
}

// restore writes the payload beside the database file and renames it over the file.
func (sqliteMethod) restore(ctx context.Context, db Database, r io.Reader) error {
	path := db.Name
	if err := (sqliteMethod{}).check(db); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.restore.tmp")
	if err != nil {
		return err
	}
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	var head bytes.Buffer
	if _, err := io.Copy(io.MultiWriter(tmp, &prefixWriter{buf: &head, n: len(sqliteHeader)}), ctxReader{ctx, r}); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if head.Len() > 0 && !bytes.Equal(head.Bytes(), sqliteHeader) {
		return errors.New("the backup's payload is not an SQLite database")
	}
	if info, err := os.Stat(path); err == nil {
		if err := copyMode(tmp, info); err != nil {
			return err
		}
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	renamed = true
	if err := removeStaleJournal(path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// check refuses, before anything changes, what restore would refuse on the way.
func (sqliteMethod) check(db Database) error {
	if db.Name == "" || db.Name == ":memory:" {
		return errors.New("an in-memory SQLite database cannot be restored into: give a file")
	}
	return checkNotInUse(db.Name)
}

// checkNotInUse refuses to replace a database whose write-ahead log or rollback journal holds
// changes: another process has it open, or crashed while writing it. A rollback journal
// whose first byte is zero is not hot, as SQLite itself decides: a PERSIST journal (which
// ratchet's runs use) is left so by every commit, and stays behind when a run is killed
// between two versions. It is removed once the database file is replaced.
func checkNotInUse(path string) error {
	for _, suffix := range []string{"-wal", "-journal"} {
		info, err := os.Stat(path + suffix)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return err
		case info.Size() == 0:
			continue
		case suffix == "-journal":
			hot, err := hotJournal(path + suffix)
			if err != nil || !hot {
				return err
			}
		}
		return fmt.Errorf("%w: %s%s holds changes not yet in the database file; stop the programs using the database and try again", ErrInUse, path, suffix)
	}
	return nil
}

// hotJournal reports whether the rollback journal at path holds changes to roll back: its
// first byte, the start of the journal header's magic number, is not zero.
func hotJournal(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	first := make([]byte, 1)
	if _, err := io.ReadFull(f, first); err != nil {
		return false, err
	}
	return first[0] != 0, nil
}

// removeStaleJournal removes the journal checkNotInUse found not hot: it belonged to the
// replaced file, and a journal is only ever read with the file it was written for.
func removeStaleJournal(path string) error {
	err := os.Remove(path + "-journal")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// copyMode gives f the permissions, and where the process may the owner, of the file that
// info describes.
func copyMode(f *os.File, info fs.FileInfo) error {
	if err := f.Chmod(info.Mode().Perm()); err != nil {
		return err
	}
	return copyOwner(f, info)
}

// prefixWriter keeps the first n bytes written to it in buf.
type prefixWriter struct {
	buf *bytes.Buffer
	n   int
}

// Write keeps what is still missing of the prefix.
func (p *prefixWriter) Write(b []byte) (int, error) {
	if missing := p.n - p.buf.Len(); missing > 0 {
		p.buf.Write(b[:min(missing, len(b))])
	}
	return len(b), nil
}

func (sqliteMethod) contents(ctx context.Context, db Database) ([]string, error) {
	return sqlrows.Strings(ctx, db.DB, `SELECT name FROM sqlite_master
WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY name`)
}
