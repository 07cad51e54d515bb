package repository

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sync"
	"unicode/utf8"
)

// repositoryShape says what a repository must contain; it ends the reason of
// every error about a missing part.
const repositoryShape = "a repository is a directory holding migrate.cfg and versions/"

// dbSettings is the migrate.cfg section ratchet reads.
const dbSettings = "db_settings"

// DefaultVersionTable is the version table used when migrate.cfg does not name one.
const DefaultVersionTable = "migrate_version"

// maxIDLength is the length of the version table's repository_id column,
// VARCHAR(250).
const maxIDLength = 250

// Repository is a loaded, validated repository.
//
// All methods are safe for concurrent use. Go migrations must be registered
// with [Repository.Register] before the repository is handed to a migrator;
// registering later is safe but the migrator may already have planned
// without them.
type Repository struct {
	path         string
	id           string
	versionTable string
	timestamps   bool
	ignored      []Ignored
	fsys         fs.FS // where script contents are read from, on first use

	mu       sync.RWMutex
	versions map[int]*version
	sorted   []int // the keys of versions, ascending
}

// version holds everything a repository has for one version number.
type version struct {
	files  []ScriptFile // in name order
	sql    []*Script    // SQL scripts, in name order
	python *Script
	goMigs map[string]*GoMigration // by operation: upgrade, expand, contract
	data   *DataMigration
}

// Ignored is an entry under versions/ that the loader ignored.
type Ignored struct {
	// Path is relative to the repository root, e.g. "versions/12_x.sql".
	Path string
	// Reason says why the entry is not a script.
	Reason string
}

// Open loads the repository in directory dir. [Repository.Path] returns dir
// exactly as given. Errors are [*Error] values; see [Load].
func Open(dir string) (*Repository, error) {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &Error{Path: dir, Reason: "repository directory does not exist; " + repositoryShape, err: err}
	case err != nil:
		return nil, &Error{Path: dir, Reason: "cannot open repository directory: " + ioReason(err), err: err}
	case !info.IsDir():
		return nil, &Error{Path: dir, Reason: "not a directory; " + repositoryShape}
	}
	return load(os.DirFS(dir), dir)
}

// Load loads the repository at the root of fsys, which must hold migrate.cfg
// and versions/ (use [fs.Sub] for a repository in a subdirectory of an
// embed.FS). [Repository.Path] returns "".
//
// Every script file is read while loading. Any problem is returned as an
// [*Error] naming the file at fault: a missing migrate.cfg or versions/,
// a migrate.cfg without [db_settings] repository_id, an invalid
// use_timestamp_numbering, an old-format versions/1 entry, an SQL name that
// is not ###_description_database_operation.sql, version 0, two SQL files
// for the same version, database and operation, or two Python scripts for
// one version.
func Load(fsys fs.FS) (*Repository, error) {
	return load(fsys, "")
}

func load(fsys fs.FS, path string) (*Repository, error) {
	cfg, err := fs.ReadFile(fsys, configFile)
	if err != nil {
		return nil, missingError(fsys, configFile, err)
	}
	entries, err := fs.ReadDir(fsys, versionsDir)
	if err != nil {
		return nil, missingError(fsys, versionsDir, err)
	}
	r := &Repository{path: path, fsys: fsys, versions: make(map[int]*version, len(entries))}
	if err := r.readConfig(string(cfg)); err != nil {
		return nil, err
	}
	if err := r.readVersions(entries); err != nil {
		return nil, err
	}
	return r, nil
}

// missingError describes a failure to read name, a required part of the
// repository.
func missingError(fsys fs.FS, name string, err error) *Error {
	if errors.Is(err, fs.ErrNotExist) {
		return &Error{Path: name, Reason: "missing; " + repositoryShape, err: err}
	}
	if info, serr := fs.Stat(fsys, name); serr == nil {
		if want := name == versionsDir; info.IsDir() != want {
			kind := "a directory"
			if want {
				kind = "not a directory"
			}
			return &Error{Path: name, Reason: "is " + kind + "; " + repositoryShape, err: err}
		}
	}
	return &Error{Path: name, Reason: "cannot read: " + ioReason(err), err: err}
}

// ioReason returns the message of err without the path that *fs.PathError
// adds, since [Error] names the path itself.
func ioReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// readConfig reads the [db_settings] section of migrate.cfg.
func (r *Repository) readConfig(data string) error {
	c, err := parseConfig(data)
	if err != nil {
		return err
	}
	if !c.hasSection(dbSettings) {
		return configError("no [%s] section; it must set repository_id", dbSettings)
	}
	id, ok, err := c.get(dbSettings, "repository_id")
	switch {
	case err != nil:
		return err
	case !ok:
		return configError("[%s] has no repository_id", dbSettings)
	case id == "":
		return configError("[%s] repository_id is empty", dbSettings)
	case utf8.RuneCountInString(id) > maxIDLength:
		return configError("[%s] repository_id is longer than %d characters, the size of the version table's repository_id column", dbSettings, maxIDLength)
	}
	r.id = id

	table, ok, err := c.get(dbSettings, "version_table")
	switch {
	case err != nil:
		return err
	case !ok:
		table = DefaultVersionTable
	case table == "":
		return configError("[%s] version_table is empty", dbSettings)
	}
	r.versionTable = table

	ts, ok, err := c.get(dbSettings, "use_timestamp_numbering")
	if err != nil {
		return err
	}
	if ok {
		r.timestamps, err = parseBool(ts)
		if err != nil {
			return configError("[%s] use_timestamp_numbering: %v", dbSettings, err)
		}
	}
	return nil
}

// readVersions files every script under versions/; entries are in name order. Contents are
// read on first use (see [Repository.Script]), so that commands that only need the version
// numbers, such as `db version`, stay fast on long histories.
func (r *Repository) readVersions(entries []fs.DirEntry) error {
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() && name != oldFormatName {
			if _, why, err := ParseName(name); err == nil && why == "" {
				// Named like a script, so meant as one: ignoring it would skip a version.
				return &Error{Path: versionsDir + "/" + name, Reason: "is a directory, not a script file"}
			}
			r.ignored = append(r.ignored, Ignored{Path: versionsDir + "/" + name, Reason: "directory"})
			continue
		}
		f, why, err := ParseName(name)
		if err != nil {
			return err
		}
		if why != "" {
			r.ignored = append(r.ignored, Ignored{Path: f.Path, Reason: why})
			continue
		}
		if err := r.add(f); err != nil {
			return err
		}
	}
	for v := range r.versions {
		r.sorted = append(r.sorted, v)
	}
	slices.Sort(r.sorted)
	return nil
}

// add files script f under its version.
func (r *Repository) add(f ScriptFile) error {
	v := r.versions[f.Version]
	if v == nil {
		v = &version{}
		r.versions[f.Version] = v
	}
	s := &Script{Version: f.Version, Path: f.Path, DBMS: f.DBMS, Operation: f.Operation, Kind: f.Kind}
	if f.Kind == Python {
		if v.python != nil {
			return &Error{Path: v.python.Path, Reason: fmt.Sprintf(
				"version %d has two Python scripts, %s and %s; only one is allowed", f.Version, v.python.Path, f.Path)}
		}
		v.python = s
	} else {
		if prev := v.sqlScript(f.DBMS, f.Operation); prev != nil {
			return &Error{Path: prev.Path, Reason: fmt.Sprintf(
				"%s and %s are both the %s %s script of version %d; keep only one",
				prev.Path, f.Path, f.DBMS, f.Operation, f.Version)}
		}
		v.sql = append(v.sql, s)
	}
	v.files = append(v.files, f)
	return nil
}

// sqlScript returns the SQL script of v for dbms and operation, or nil.
func (v *version) sqlScript(dbms, operation string) *Script {
	for _, s := range v.sql {
		if s.DBMS == dbms && s.Operation == operation {
			return s
		}
	}
	return nil
}

// ID returns the repository id, [db_settings] repository_id in migrate.cfg.
// It identifies the repository's row in the version table.
func (r *Repository) ID() string { return r.id }

// VersionTable returns the name of the version table, [db_settings]
// version_table in migrate.cfg, by default [DefaultVersionTable].
func (r *Repository) VersionTable() string { return r.versionTable }

// Path returns the directory given to [Open], or "" for [Load].
func (r *Repository) Path() string { return r.path }

// UseTimestampNumbering reports whether new scripts are numbered with a UTC
// timestamp (%Y%m%d%H%M%S) instead of the latest version plus one.
func (r *Repository) UseTimestampNumbering() bool { return r.timestamps }

// Latest returns the highest version that has a script file or a registered
// Go migration, or 0 if there is none.
func (r *Repository) Latest() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.sorted) == 0 {
		return 0
	}
	return r.sorted[len(r.sorted)-1]
}

// Versions returns, in ascending order, every version that has a script file
// or a registered Go migration. The slice is the caller's.
func (r *Repository) Versions() []int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.sorted)
}

// Has reports whether version has a script file or a registered Go migration.
func (r *Repository) Has(version int) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.versions[version]
	return ok
}

// Files returns every script file of version, sorted by name, including
// downgrade and Python scripts. Go migrations are not files and are not
// included. The slice is the caller's.
func (r *Repository) Files(version int) []ScriptFile {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if v := r.versions[version]; v != nil {
		return slices.Clone(v.files)
	}
	return nil
}

// Ignored returns the entries under versions/ that the loader ignored, in
// name order, with the reason: directories, names with fewer than 3 leading
// digits, extensions other than .sql and .py. The slice is the caller's.
func (r *Repository) Ignored() []Ignored {
	return slices.Clone(r.ignored)
}

// content returns the text of an SQL or Python script, reading it on first use. The caller
// must not hold r.mu.
func (r *Repository) content(s *Script) (string, error) {
	r.mu.RLock()
	text, loaded := s.SQL, s.loaded
	r.mu.RUnlock()
	if loaded {
		return text, nil
	}
	data, err := fs.ReadFile(r.fsys, s.Path)
	if err != nil {
		return "", &Error{Path: s.Path, Reason: "cannot read: " + ioReason(err), err: err}
	}
	r.mu.Lock()
	s.SQL, s.loaded = string(data), true
	r.mu.Unlock()
	return s.SQL, nil
}
