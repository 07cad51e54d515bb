package repository

import (
	"strconv"
	"strings"
)

// versionsDir is the directory of a repository that holds the scripts.
const versionsDir = "versions"

// minVersionDigits is the number of leading digits a script name needs to
// belong to a version.
const minVersionDigits = 3

// oldFormatName is the entry that marks a repository in the pre-0.4.5
// sqlalchemy-migrate layout, with one directory per version.
const oldFormatName = "1"

// oldFormatReason explains why a versions/1 entry is refused.
const oldFormatReason = "repository in the old format (one directory per version); " +
	"convert it to versions/NNN_description_database_operation.sql files first"

// sqlNameReason explains the expected SQL script name.
const sqlNameReason = "invalid SQL script name: expected ###_description_database_operation.sql " +
	"(for example 001_add_tags_default_upgrade.sql)"

// ScriptFile is a parsed script file name.
type ScriptFile struct {
	// Path is the file's path relative to the repository root, for example
	// "versions/003_add_tags_sqlite_upgrade.sql".
	Path string
	// Version is the number the name starts with.
	Version int
	// Description is the part between the version number and the database
	// name (for Python scripts: everything after the version number), without
	// the separating underscore. It may be empty.
	Description string
	// DBMS is the database the SQL script is for ("default", "sqlite",
	// "postgresql", "mysql", or whatever the name says); "" for Python.
	DBMS string
	// Operation is the last part of an SQL script name ("upgrade",
	// "downgrade", "expand", …), kept as written; "" for Python.
	Operation string
	// Kind is SQL or Python.
	Kind Kind
}

// ParseName parses a file name under versions/ (base name only).
//
// A script name starts with at least three digits, the version number, and
// ends in ".sql" or ".py". SQL names are split on "_" after removing ".sql":
// the last part is the operation, the one before it the database, and what
// lies between the version number and the database is the description, which
// may be empty ("003_sqlite_upgrade.sql") or contain underscores.
//
// ignored is non-empty, with the reason, for a name the legacy loader silently
// ignores: fewer than 3 leading digits, or an extension other than .sql/.py.
// err is a non-nil [*Error] for a name that makes the repository invalid: an
// SQL name with fewer than three parts, version 0 (version numbers start at
// 1), a version number too large for an int, or the old-format entry "1".
func ParseName(name string) (f ScriptFile, ignored string, err error) {
	p := versionsDir + "/" + name
	switch {
	case name == "" || strings.Contains(name, "/"):
		return ScriptFile{}, "", &Error{Path: p, Reason: "not a file name"}
	case name == oldFormatName:
		return ScriptFile{}, "", &Error{Path: p, Reason: oldFormatReason}
	}

	n := leadingDigits(name)
	switch {
	case n == 0:
		return ScriptFile{Path: p}, "name does not start with a version number", nil
	case n < minVersionDigits:
		return ScriptFile{Path: p}, "version number has fewer than 3 digits (write 001, not 1)", nil
	}

	var stem string
	switch {
	case strings.HasSuffix(name, ".sql"):
		f.Kind, stem = SQL, strings.TrimSuffix(name, ".sql")
	case strings.HasSuffix(name, ".py"):
		f.Kind, stem = Python, strings.TrimSuffix(name, ".py")
	default:
		return ScriptFile{Path: p}, "extension is not .sql or .py", nil
	}

	v, err := strconv.Atoi(name[:n])
	switch {
	case err != nil:
		return ScriptFile{}, "", &Error{Path: p, Reason: "version number " + name[:n] + " is too large"}
	case v == 0:
		return ScriptFile{}, "", &Error{Path: p, Reason: "version numbers start at 1"}
	}
	f.Path, f.Version = p, v

	if f.Kind == Python {
		f.Description = strings.TrimPrefix(stem[n:], "_")
		return f, "", nil
	}
	i := strings.LastIndexByte(stem, '_')
	if i < 0 {
		return ScriptFile{}, "", &Error{Path: p, Reason: sqlNameReason}
	}
	rest := stem[:i]
	j := strings.LastIndexByte(rest, '_')
	if j < 0 {
		return ScriptFile{}, "", &Error{Path: p, Reason: sqlNameReason}
	}
	// The digits contain no "_", so j >= n.
	f.Description = strings.TrimPrefix(rest[n:j], "_")
	f.DBMS, f.Operation = rest[j+1:], stem[i+1:]
	return f, "", nil
}

// leadingDigits returns the number of ASCII digits s starts with.
func leadingDigits(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return i
		}
	}
	return len(s)
}
