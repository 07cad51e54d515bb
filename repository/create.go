package repository

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// configTemplate is migrate.cfg as a new repository gets it, with the keys
// and values sqlalchemy-migrate's `migrate create` writes. The one verb is
// the repository id, with "%" doubled.
const configTemplate = `[db_settings]
# The id of this repository: the key of its row in the version table.
# Changing it makes every existing database look uncontrolled.
repository_id=%s

# The table that records each database's version. Changing it after
# databases are under version control means renaming the table in each.
version_table=migrate_version

# Read for compatibility with sqlalchemy-migrate; ratchet does not use it.
required_dbs=[]

# Set to True to number new scripts with a UTC timestamp (YYYYMMDDhhmmss)
# instead of the latest version plus one.
use_timestamp_numbering=False
`

// readmeText is the README of a new repository.
const readmeText = `This is a database schema repository, managed by ratchet and readable by
sqlalchemy-migrate.

migrate.cfg   settings: repository_id, version_table, use_timestamp_numbering
versions/     the scripts: NNN_description_database_upgrade.sql, where database
              is default, sqlite, postgresql or mysql

Versions only move forward: add a new script instead of editing one that has
been applied. "ratchet repo new DESCRIPTION" creates the next script.
`

// timestampLayout formats a version number from a UTC time, as
// %Y%m%d%H%M%S does.
const timestampLayout = "20060102150405"

// Init creates a new repository in dir, which must not exist or be empty:
// migrate.cfg with [db_settings] repository_id=id,
// version_table=migrate_version, required_dbs=[] and
// use_timestamp_numbering=False, as `migrate create` writes it; versions/,
// with an empty __init__.py so that sqlalchemy-migrate also accepts it; and a
// short README. The id must be non-empty, at most 250 characters, without
// control characters or surrounding white space.
func Init(dir, id string) error {
	if err := validateID(id); err != nil {
		return fmt.Errorf("repository: init %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return fmt.Errorf("repository: init %s: the directory is not empty", dir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("repository: init %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, versionsDir), 0o755); err != nil {
		return fmt.Errorf("repository: init %s: %w", dir, err)
	}
	files := []struct{ name, text string }{
		{configFile, fmt.Sprintf(configTemplate, strings.ReplaceAll(id, "%", "%%"))},
		{"README", readmeText},
		{filepath.Join(versionsDir, "__init__.py"), ""},
	}
	for _, f := range files {
		if err := writeNew(filepath.Join(dir, f.name), f.text); err != nil {
			return fmt.Errorf("repository: init %s: %w", dir, err)
		}
	}
	return nil
}

// validateID checks that id can be written to migrate.cfg and read back
// unchanged, and fits the version table.
func validateID(id string) error {
	switch {
	case id == "":
		return errors.New("the repository id is empty")
	case strings.TrimSpace(id) != id:
		return fmt.Errorf("the repository id %q starts or ends with white space", id)
	case strings.ContainsFunc(id, unicode.IsControl):
		return fmt.Errorf("the repository id %q contains a control character", id)
	case utf8.RuneCountInString(id) > maxIDLength:
		return fmt.Errorf("the repository id is longer than %d characters", maxIDLength)
	}
	return nil
}

// NewScript creates the next upgrade script in the repository in dir and
// returns its path: versions/<NNN>_<description>_<dbms>_upgrade.sql, where
// NNN is the latest version plus one, formatted as %03d, or, when
// use_timestamp_numbering is set, now in UTC as %Y%m%d%H%M%S (which must be
// above the latest version). dbms is "default" if empty, else one of
// sqlite, postgresql and mysql.
//
// The description is sanitised as sqlalchemy-migrate does: white space,
// quotes and dots become "_" and runs of "_" collapse to one; leading and
// trailing "_" are dropped. A description with "/", "\" or control
// characters other than white space is refused. The file starts with a
// one-line comment and is never overwritten.
//
// Go migrations registered in code are not seen here; a version that only
// has a Go migration must be reserved with a file of its own, or NewScript
// reuses its number.
func NewScript(dir, description, dbms string, now time.Time) (string, error) {
	if dbms == "" {
		dbms = DefaultDBMS
	}
	if !knownDBMS(dbms) {
		return "", fmt.Errorf("repository: new script: database %q is not default, sqlite, postgresql or mysql", dbms)
	}
	desc, err := sanitizeDescription(description)
	if err != nil {
		return "", fmt.Errorf("repository: new script: %w", err)
	}
	if desc == "" {
		// The description is the only name a version has in listings and history.
		return "", fmt.Errorf("repository: new script: the description %q is empty; say what the version does, e.g. \"add image tags\"", description)
	}
	r, err := Open(dir)
	if err != nil {
		return "", err
	}
	latest := r.Latest()
	next := latest + 1
	if r.UseTimestampNumbering() {
		next, err = strconv.Atoi(now.UTC().Format(timestampLayout))
		if err != nil || next <= latest {
			return "", fmt.Errorf("repository: new script: timestamp version %s is not above the latest version %d",
				now.UTC().Format(timestampLayout), latest)
		}
	}

	name := fmt.Sprintf("%03d", next)
	if desc != "" {
		name += "_" + desc
	}
	name += "_" + dbms + "_" + OpUpgrade + ".sql"
	header := fmt.Sprintf("-- Version %d, %s upgrade", next, dbms)
	if words := strings.Join(strings.Fields(description), " "); words != "" {
		header += ": " + words
	}
	p := filepath.Join(dir, versionsDir, name)
	if err := writeNew(p, header+"\n"+templateHint+"\n"); err != nil {
		return "", fmt.Errorf("repository: new script: %w", err)
	}
	return p, nil
}

// templateHint is the second line of a script [NewScript] writes. A script that is still
// exactly the header and this line is a template nobody filled in ([Script.IsTemplate]).
const templateHint = "-- Write this version's SQL below. ratchet refuses to run this script until it is edited."

// templateHeader matches the first line [NewScript] writes, which is the whole of what
// earlier releases wrote.
var templateHeader = regexp.MustCompile(`^-- Version ([0-9]+), ([a-z]+) upgrade(: [^\n]+)?$`)

// IsTemplate reports whether s is still exactly what [NewScript] wrote, header and hint (or,
// from earlier releases, the header alone), for its own version and database: a version
// applied in that state would be an empty version recorded forever. Line endings do not
// matter; an empty script, as legacy repositories have, is not a template.
func (s *Script) IsTemplate() bool {
	if s.Kind != SQL || s.Operation != OpUpgrade {
		return false
	}
	text := strings.ReplaceAll(s.SQL, "\r\n", "\n")
	text, ok := strings.CutSuffix(text, "\n")
	if !ok {
		return false
	}
	header, rest, twoLines := strings.Cut(text, "\n")
	if twoLines && rest != templateHint {
		return false
	}
	m := templateHeader.FindStringSubmatch(header)
	return m != nil && m[1] == strconv.Itoa(s.Version) && m[2] == s.DBMS
}

// sanitizeDescription turns a description into the middle of a file name.
func sanitizeDescription(s string) (string, error) {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '/' || c == '\\' || (unicode.IsControl(c) && !unicode.IsSpace(c)):
			return "", fmt.Errorf("description %q: %q cannot be part of a file name", s, c)
		case unicode.IsSpace(c) || c == '"' || c == '\'' || c == '.':
			b.WriteByte('_')
		default:
			b.WriteRune(c)
		}
	}
	out := b.String()
	for strings.Contains(out, "__") {
		out = strings.ReplaceAll(out, "__", "_")
	}
	return strings.Trim(out, "_"), nil
}

// writeNew creates the file p with content text; it fails if p exists.
func writeNew(p, text string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(p)
		return err
	}
	return nil
}
