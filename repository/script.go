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
	// OpExpand, OpMigrate and OpContract are the phases of a rolling version,
	// in the order they run: expand adds what the new release needs while the
	// old one keeps running, migrate moves the data, contract removes what only
	// the old release used.
	OpExpand   = "expand"
	OpMigrate  = "migrate"
	OpContract = "contract"
)

// IsPhase reports whether op is one of the phases of a rolling version.
func IsPhase(op string) bool { return op == OpExpand || op == OpMigrate || op == OpContract }

// DefaultDBMS is the database name of SQL scripts that serve every dialect
// without a script of its own.
const DefaultDBMS = "default"

// goPathPrefix starts the Path and Checksum of a Go migration's script.
const goPathPrefix = "go:"

// GoMigration is a migration written in Go, the counterpart of a legacy .py
// script. It serves the upgrade operation of its version — or, with Phase,
// the expand or contract phase of a rolling version — for every dialect that
// has no SQL script of its own and no default one for that operation.
type GoMigration struct {
	// Version is the version the migration upgrades to; it must be at least 1.
	Version int
	// Phase is "" or [OpUpgrade] for a plain version, [OpExpand] or
	// [OpContract] for a phase of a rolling version (data migrations are
	// [DataMigration] values).
	Phase string
	// Name is shown in output and recorded in the history table, e.g.
	// "backfill_image_tags". It must not be empty.
	Name string
	// Up runs inside the version's transaction, which also records the new
	// version; it must not commit or roll back tx.
	Up func(ctx context.Context, tx *sql.Tx) error
}

// DataMigration is the migrate phase of a rolling version written in Go: it
// moves data in batches while the old and the new release both run. Each
// batch commits with a checkpoint of its cursor, so a stopped migration
// resumes after the last committed batch.
type DataMigration struct {
	// Version is the rolling version the data migration belongs to.
	Version int
	// Name is shown in output and recorded in the history table.
	Name string
	// Pending reports whether rows remain to migrate (an EXISTS or LIMIT 1
	// query). It is asked at the end of each run, before the contract phase
	// and by db check: the old release may write rows that need migrating
	// until it is gone.
	Pending func(ctx context.Context, q Querier) (bool, error)
	// Batch migrates at most b.Limit rows after b.Cursor in tx, which it must
	// not commit or roll back, and says how many rows it changed, where the
	// next batch starts and whether it is done. It must be idempotent: after a
	// crash it runs again from the last committed cursor.
	Batch func(ctx context.Context, tx *sql.Tx, b Batch) (Progress, error)
}

// Querier runs queries; *sql.DB, *sql.Conn and *sql.Tx satisfy it.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Batch is what one call of [DataMigration.Batch] is to do. The dialect is in
// the context ([dialect.FromContext]), as for Go migrations.
type Batch struct {
	Limit  int    // at most this many rows
	Cursor string // where the previous batch stopped; "" for the first
}

// Progress is what one batch did.
type Progress struct {
	Rows   int64  // rows changed
	Cursor string // where the next batch starts
	Done   bool   // nothing is left after this batch
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
	// Data is the data migration, for the Go kind in the migrate phase.
	Data *DataMigration

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
//  3. else the registered Go migration for the operation (a [GoMigration],
//     or a [DataMigration] for the migrate phase),
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
	if m := v.goMigs[operation]; m != nil {
		return nil, &Script{Version: n, Path: goPathPrefix + m.Name, Operation: operation, Kind: Go, Up: m.Up}
	}
	if d := v.data; d != nil && operation == OpMigrate {
		return nil, &Script{Version: n, Path: goPathPrefix + d.Name, Operation: operation, Kind: Go, Data: d}
	}
	if p := v.python; p != nil && (operation == OpUpgrade || operation == OpDowngrade) {
		c := *p
		c.Operation = operation
		return p, &c
	}
	return nil, nil
}

// Register adds a Go migration for m.Version (and m.Phase). A Go migration
// counts as a version even without files. It is an error to register a version
// below 1, the same version and phase twice, an empty Name, a nil Up or a
// phase other than upgrade, expand and contract.
func (r *Repository) Register(m GoMigration) error {
	if m.Phase == "" {
		m.Phase = OpUpgrade
	}
	var problem string
	switch {
	case m.Version < 1:
		problem = fmt.Sprintf("version %d is not a version number (they start at 1)", m.Version)
	case m.Name == "":
		problem = "Name is empty"
	case m.Up == nil:
		problem = "Up is nil"
	case m.Phase == OpMigrate:
		problem = "a migrate phase is a DataMigration (RegisterData)"
	case m.Phase != OpUpgrade && !IsPhase(m.Phase):
		problem = fmt.Sprintf("phase %q is not upgrade, expand or contract", m.Phase)
	}
	if problem != "" {
		return fmt.Errorf("repository: register Go migration %q for version %d: %s", m.Name, m.Version, problem)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.versionLocked(m.Version)
	if prev := v.goMigs[m.Phase]; prev != nil {
		return fmt.Errorf("repository: register Go migration %q for version %d: the version already has Go migration %q for %s",
			m.Name, m.Version, prev.Name, m.Phase)
	}
	if v.goMigs == nil {
		v.goMigs = make(map[string]*GoMigration, 1)
	}
	v.goMigs[m.Phase] = &m
	return nil
}

// RegisterData adds the Go data migration of rolling version d.Version. It is
// an error to register a version below 1, a version twice, an empty Name or a
// nil Pending or Batch.
func (r *Repository) RegisterData(d DataMigration) error {
	var problem string
	switch {
	case d.Version < 1:
		problem = fmt.Sprintf("version %d is not a version number (they start at 1)", d.Version)
	case d.Name == "":
		problem = "Name is empty"
	case d.Pending == nil:
		problem = "Pending is nil"
	case d.Batch == nil:
		problem = "Batch is nil"
	}
	if problem != "" {
		return fmt.Errorf("repository: register data migration %q for version %d: %s", d.Name, d.Version, problem)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.versionLocked(d.Version)
	if v.data != nil {
		return fmt.Errorf("repository: register data migration %q for version %d: the version already has data migration %q",
			d.Name, d.Version, v.data.Name)
	}
	v.data = &d
	return nil
}

// versionLocked returns version n's entry, adding it if it has none. The caller holds r.mu.
func (r *Repository) versionLocked(n int) *version {
	v := r.versions[n]
	if v == nil {
		v = &version{}
		r.versions[n] = v
		i, _ := slices.BinarySearch(r.sorted, n)
		r.sorted = slices.Insert(r.sorted, i, n)
	}
	return v
}

// Rolling reports whether version is a rolling version: it has a script or a
// Go registration for a phase (expand, migrate or contract) of a database
// ratchet knows. Its upgrade script, if any, is for the legacy tool only.
func (r *Repository) Rolling(version int) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v := r.versions[version]
	return v != nil && v.rolling()
}

func (v *version) rolling() bool {
	if v.data != nil || v.goMigs[OpExpand] != nil || v.goMigs[OpContract] != nil {
		return true
	}
	for _, s := range v.sql {
		if IsPhase(s.Operation) && knownDBMS(s.DBMS) {
			return true
		}
	}
	return false
}
