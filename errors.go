package ratchet

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"

	"github.com/ratchetdb/ratchet/internal/versiontable"
)

// Sentinel errors that callers branch on with [errors.Is]. The typed errors below wrap them
// and carry the details.
var (
	// ErrNotControlled: the database has tables but no row for this repository in the version table.
	ErrNotControlled = errors.New("database is not under version control")
	// ErrAlreadyControlled: version_control was asked to stamp a database that already has a row.
	ErrAlreadyControlled = errors.New("database is already under version control")
	// ErrDowngrade: the target version is below the current one. ratchet never downgrades.
	ErrDowngrade = errors.New("downgrades are not supported")
	// ErrVersionNotFound: the target version, or a version between current and target, is not in the repository.
	ErrVersionNotFound = errors.New("version not found in the repository")
	// ErrInvalidVersion: a version number that can never be valid (negative).
	ErrInvalidVersion = errors.New("invalid version number")
	// ErrNoScript: a version has no script ratchet can run on this dialect.
	ErrNoScript = errors.New("no runnable script")
	// ErrNotAtomic: an atomic upgrade was asked for where versions cannot share one transaction.
	ErrNotAtomic = errors.New("cannot apply the versions in one transaction")
	// ErrOutOfOrder: the repository has versions below the current one that were never
	// applied (added after later versions were).
	ErrOutOfOrder = errors.New("versions out of order")
)

// OutOfOrderError reports versions below the database's current version that its history
// says were never applied: ratchet applies versions in order only.
type OutOfOrderError struct {
	Versions []int
	Current  int
}

func (e *OutOfOrderError) Error() string {
	vs := make([]string, len(e.Versions))
	for i, v := range e.Versions {
		vs[i] = fmt.Sprint(v)
	}
	return fmt.Sprintf("version(s) %s are below the current version %d but were never applied (added after later versions?); versions run in order only: renumber them above %d",
		strings.Join(vs, ", "), e.Current, e.Current)
}

// Unwrap returns [ErrOutOfOrder].
func (e *OutOfOrderError) Unwrap() error { return ErrOutOfOrder }

// NotControlledError reports a database that has tables but is not under version control for
// this repository, so ratchet cannot tell which version its schema is at.
type NotControlledError struct {
	Tables       []string // the database's tables, sorted
	OtherTracker string   // the tracking table of another migration tool, if one was found
}

func (e *NotControlledError) Error() string {
	const shown = 5
	list := e.Tables
	more := ""
	if len(list) > shown {
		more = fmt.Sprintf(", … %d more", len(list)-shown)
		list = list[:shown]
	}
	msg := fmt.Sprintf("database is not under version control but has tables (%s%s)", strings.Join(list, ", "), more)
	if e.OtherTracker != "" {
		msg += fmt.Sprintf("; %s suggests another migration tool manages it", e.OtherTracker)
	}
	return msg + "; if its schema matches a version of this repository, stamp it with `db version_control VERSION`"
}

// Unwrap returns [ErrNotControlled].
func (e *NotControlledError) Unwrap() error { return ErrNotControlled }

// AlreadyControlledError reports a version_control request on a controlled database.
type AlreadyControlledError struct{ Version int }

func (e *AlreadyControlledError) Error() string {
	return fmt.Sprintf("database is already under version control at version %d", e.Version)
}

// Unwrap returns [ErrAlreadyControlled].
func (e *AlreadyControlledError) Unwrap() error { return ErrAlreadyControlled }

// DowngradeError reports a target below the current version.
type DowngradeError struct {
	Current, Target int
	// Latest is true when the target was the repository's latest version, not a version the
	// caller asked for: the database is ahead of the repository.
	Latest bool
}

func (e *DowngradeError) Error() string {
	const advice = "downgrades are not supported; to go back, restore the backup taken before the upgrade"
	if e.Latest {
		return fmt.Sprintf("database is at version %d, ahead of the repository's latest version %d (an older release of the repository?); %s",
			e.Current, e.Target, advice)
	}
	return fmt.Sprintf("cannot go from version %d down to %d: %s", e.Current, e.Target, advice)
}

// Unwrap returns [ErrDowngrade].
func (e *DowngradeError) Unwrap() error { return ErrDowngrade }

// VersionNotFoundError reports a version the repository does not have.
type VersionNotFoundError struct {
	Version int // the missing version
	Target  int // the requested target (differs from Version when a gap is crossed)
	Latest  int // the repository's latest version
}

func (e *VersionNotFoundError) Error() string {
	if e.Version != e.Target {
		return fmt.Sprintf("version %d is missing from the repository, so version %d cannot be reached (latest is %d)", e.Version, e.Target, e.Latest)
	}
	return fmt.Sprintf("version %d is not in the repository (latest is %d)", e.Version, e.Latest)
}

// Unwrap returns [ErrVersionNotFound].
func (e *VersionNotFoundError) Unwrap() error { return ErrVersionNotFound }

// InvalidVersionError reports a version number that can never be valid.
type InvalidVersionError struct{ Version int }

func (e *InvalidVersionError) Error() string {
	return fmt.Sprintf("invalid version %d: version numbers cannot be negative", e.Version)
}

// Unwrap returns [ErrInvalidVersion].
func (e *InvalidVersionError) Unwrap() error { return ErrInvalidVersion }

// NoScriptError reports a version that has no script ratchet can run on the dialect.
type NoScriptError struct {
	Version int
	Dialect string
	Path    string // the Python script that exists instead, if any
}

func (e *NoScriptError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("%s: version %d has only a Python script; ratchet runs SQL scripts and registered Go migrations (add %03d_<description>_%s_upgrade.sql or register a Go migration)",
			e.Path, e.Version, e.Version, e.Dialect)
	}
	return fmt.Sprintf("version %d has no upgrade script for %s or default", e.Version, e.Dialect)
}

// Unwrap returns [ErrNoScript].
func (e *NoScriptError) Unwrap() error { return ErrNoScript }

// ErrStopped: a version stopped part way (it could not run in one transaction) and needs a
// decision: resume it or run it again.
var ErrStopped = errors.New("a version stopped part way")

// StoppedVersionError reports a version that stopped part way, as recorded in its journal.
type StoppedVersionError struct {
	Journal versiontable.Journal
}

func (e *StoppedVersionError) Error() string {
	j := e.Journal
	what := "failed"
	where := j.Script
	if j.FailedLine > 0 {
		where = fmt.Sprintf("%s:%d", j.Script, j.FailedLine)
	}
	cause := where
	if j.Error != "" {
		cause += ": " + j.Error
	} else {
		what = "was interrupted"
	}
	return fmt.Sprintf("version %d %s after statement %d of %d (%s); fix the script, then run `db sync --resume` to continue at statement %d (the applied statements are checked unchanged) or `db sync --retry` to run version %d again from statement 1",
		j.Version, what, j.Done(), j.Total, cause, j.Done()+1, j.Version)
}

// Unwrap returns [ErrStopped].
func (e *StoppedVersionError) Unwrap() error { return ErrStopped }

// ResumeError reports a stopped version that cannot be resumed because the statements already
// applied no longer match the script.
type ResumeError struct {
	Version   int
	Script    string
	Statement int // 1-based
	Line      int
	Reason    string
}

func (e *ResumeError) Error() string {
	where := e.Script
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.Script, e.Line)
	}
	return fmt.Sprintf("cannot resume version %d: statement %d (%s) was applied, but %s; restore it or use --retry", e.Version, e.Statement, where, e.Reason)
}

// ScriptError reports a script that failed. The version it belongs to was rolled back where
// the dialect allows it; earlier versions stay applied.
type ScriptError struct {
	Version   int
	Script    string // path relative to the repository, or "go:<name>"
	Line      int    // line of the failing statement in the script; 0 when unknown
	Statement string // the failing statement; empty for Go migrations and syntax errors
	Code      string // the database's own error code, when the driver exposes one
	Err       error
	// Journalled is true when the version could not be rolled back: Applied of Total
	// statements stay applied, and the next upgrade needs [Resume] or [Retry].
	Journalled     bool
	Applied, Total int
	// ConnectionLost is true when the statement failed because the connection to the
	// server broke (server restarted or unreachable), not because of the script.
	ConnectionLost bool
}

func (e *ScriptError) Error() string {
	where := e.Script
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.Script, e.Line)
	}
	cause := e.Err.Error()
	if e.ConnectionLost {
		cause = "lost the connection to the database server: " + cause
	}
	msg := where + ": " + cause
	switch {
	case e.Journalled:
		kept := ""
		if e.Applied > 0 {
			kept = ", which stay applied"
		}
		next := "fix the script, then"
		if e.ConnectionLost {
			next = "once the server is back,"
		}
		msg += fmt.Sprintf(" (version %d stopped after statement %d of %d%s; %s run `db sync --resume` or `db sync --retry`)",
			e.Version, e.Applied, e.Total, kept, next)
	case e.ConnectionLost:
		msg += fmt.Sprintf(" (version %d was not applied; run db sync again once the server is back)", e.Version)
	}
	return msg
}

// connectionLost reports whether err means the connection to the server broke.
func connectionLost(err error) bool {
	var netErr net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &netErr) ||
		// go-sql-driver/mysql's ErrInvalidConn, matched by text: ratchet imports no driver.
		err.Error() == "invalid connection"
}

// Unwrap returns the underlying database or Go error.
func (e *ScriptError) Unwrap() error { return e.Err }

// ErrorCode returns the database's own code for err, or "": the SQLSTATE of a PostgreSQL
// error, the numeric code of an SQLite or MySQL error. It finds them through the methods the
// drivers implement (pgconn.PgError.SQLState, sqlite.Error.Code) and, for MySQL, whose error
// type has none, in the message ("Error 1049 (42000): …"), so that ratchet imports no driver.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var state interface{ SQLState() string }
	if errors.As(err, &state) {
		return state.SQLState()
	}
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		return fmt.Sprint(coded.Code())
	}
	if m := mysqlCode.FindStringSubmatch(err.Error()); m != nil {
		return m[1]
	}
	return ""
}

// mysqlCode matches go-sql-driver/mysql's error text.
var mysqlCode = regexp.MustCompile(`\bError (\d{4,5})(?: \([0-9A-Z]{5}\))?: `)
