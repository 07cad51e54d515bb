package repository

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/ratchetdb/ratchet/sqlsplit"
)

// Operations ratchet knows. Scripts for other operations are loaded and kept
// as parsed, but never selected by the engine.
const (
	// OpUpgrade is the operation of the scripts that move a database forward.
	OpUpgrade = "upgrade"
	// OpDowngrade is the operation of legacy downgrade scripts, which are
	// read and never run.
	OpDowngrade = "downgrade"
)

// DefaultDBMS is the database name of SQL scripts that serve every dialect
// without a script of its own.
const DefaultDBMS = "default"

// goPathPrefix starts the Path and Checksum of a Go migration's script.
const goPathPrefix = "go:"

// GoMigration is a migration written in Go, the counterpart of a legacy .py
// script. It serves the upgrade operation of its version for every dialect
// that has no SQL upgrade script of its own and no default one.
type GoMigration struct {
	// Version is the version the migration upgrades to; it must be at least 1.
	Version int
	// Name is shown in output and recorded in the history table, e.g.
	// "backfill_image_tags". It must not be empty.
	Name string
	// Up runs inside the version's transaction, which also records the new
	// version; it must not commit or roll back tx.
	Up func(ctx context.Context, tx *sql.Tx) error
}

// Script is the script that runs one operation of one version on one dialect,
// as returned by [Repository.Script].
type Script struct {
	// Version is the version the script belongs to.
	Version int
	// Path is relative to the repository root, e.g.
	// "versions/003_add_tags_sqlite_upgrade.sql"; for a Go migration it is
	// "go:" followed by its Name.
	Path string
	// DBMS is the database named in the file name ("sqlite", "default", …);
	// "" for Go and Python scripts, which serve every database.
	DBMS string
	// Operation is "upgrade", "expand", … as in the file name; for Go and
	// Python scripts it is the operation that was asked for.
	Operation string
	// Kind says what runs the script.
	Kind Kind
	// SQL is the file content, for the SQL and Python kinds.
	SQL string
	// Up is the migration function, for the Go kind.
	Up func(ctx context.Context, tx *sql.Tx) error

	loaded bool // SQL holds the file's content (the repository reads it on first use)
}

// Checksum identifies the script's content for the history table: "sha256:"
// followed by the hex SHA-256 of SQL with CRLF and lone CR line endings
// normalised to LF, or, for a Go migration, "go:" followed by its name. The
// tag lets the algorithm evolve.
func (s *Script) Checksum() string {
	if s.Kind == Go {
		return s.Path
	}
	text := s.SQL
	if strings.IndexByte(text, '\r') >= 0 {
		text = strings.ReplaceAll(text, "\r\n", "\n")
		text = strings.ReplaceAll(text, "\r", "\n")
	}
	sum := sha256.Sum256([]byte(text))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Script returns the script that runs (version, operation) on a database of
// dialect dbms ("sqlite", "postgresql", "mysql"), in this order of
// precedence:
//
//  1. the SQL file for dbms,
//  2. else the SQL file for "default",
//  3. else the registered Go migration (upgrade only),
//  4. else the .py file (upgrade and downgrade only), as a [Python] script
//     that the engine refuses to run, naming the file.
//
// ok is false when the version has nothing for that operation. The file's
// content is read on first use; err is an [*Error] for a file that cannot be
// read or that holds what no database must be sent (see [sqlsplit.NotSQL]).
// The returned Script is the caller's.
func (r *Repository) Script(version int, dbms, operation string) (s *Script, ok bool, err error) {
	r.mu.RLock()
	v := r.versions[version]
	var found *Script
	if v != nil {
		found, s = v.script(version, dbms, operation)
	}
	r.mu.RUnlock()
	if s == nil {
		return nil, false, nil
	}
	if found != nil {
		if s.SQL, err = r.content(found); err != nil {
			return nil, false, err
		}
		s.loaded = true
		if s.Kind == SQL {
			if se := sqlsplit.NotSQL(s.SQL, splitDialect(dbms)); se != nil {
				return nil, false, &Error{Path: s.Path, Line: se.Line, Reason: se.Msg}
			}
		}
	}
	return s, true, nil
}

// splitDialect returns the splitter rules for a dialect name, or 0 (which the splitter
// does not know) for others: their scripts are still checked for NUL bytes.
func splitDialect(dbms string) sqlsplit.Dialect {
	for _, d := range []sqlsplit.Dialect{sqlsplit.SQLite, sqlsplit.PostgreSQL, sqlsplit.MySQL} {
		if d.String() == dbms {
			return d
		}
	}
	return 0
}

// script implements [Repository.Script] for version number n: it returns the
// caller's copy, and the repository's own Script when it has a file whose
// content the copy needs.
func (v *version) script(n int, dbms, operation string) (file, s *Script) {
	if dbms != "" {
		if f := v.sqlScript(dbms, operation); f != nil {
			c := *f
			return f, &c
		}
	}
	if f := v.sqlScript(DefaultDBMS, operation); f != nil {
		c := *f
		return f, &c
	}
	if m := v.goMig; m != nil && operation == OpUpgrade {
		return nil, &Script{Version: n, Path: goPathPrefix + m.Name, Operation: operation, Kind: Go, Up: m.Up}
	}
	if p := v.python; p != nil && (operation == OpUpgrade || operation == OpDowngrade) {
		c := *p
		c.Operation = operation
		return p, &c
	}
	return nil, nil
}

// Register adds a Go migration for m.Version. A Go migration counts as a
// version even without files. It is an error to register a version below 1,
// the same version twice, an empty Name or a nil Up.
func (r *Repository) Register(m GoMigration) error {
	var problem string
	switch {
	case m.Version < 1:
		problem = fmt.Sprintf("version %d is not a version number (they start at 1)", m.Version)
	case m.Name == "":
		problem = "Name is empty"
	case m.Up == nil:
		problem = "Up is nil"
	}
	if problem != "" {
		return fmt.Errorf("repository: register Go migration %q for version %d: %s", m.Name, m.Version, problem)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.versions[m.Version]
	if v == nil {
		v = &version{}
		r.versions[m.Version] = v
		i, _ := slices.BinarySearch(r.sorted, m.Version)
		r.sorted = slices.Insert(r.sorted, i, m.Version)
	}
	if v.goMig != nil {
		return fmt.Errorf("repository: register Go migration %q for version %d: the version already has Go migration %q",
			m.Name, m.Version, v.goMig.Name)
	}
	v.goMig = &m
	return nil
}
