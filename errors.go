package ratchet

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ratchetdb/ratchet/internal/lock"
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
	// ErrInvalidRepository: the repository cannot be used on this database (a name it
	// gives is longer than the database keeps).
	ErrInvalidRepository = errors.New("invalid repository")
	// ErrRefusedStatement: a script holds a statement ratchet will not run (it would move
	// the rest of the version out of reach of its bookkeeping).
	ErrRefusedStatement = errors.New("statement refused")
	// ErrLockTimeout: another process held the migration lock for the whole lock timeout.
	ErrLockTimeout = errors.New("timed out waiting for the migration lock")
	// ErrLockLost: the run could not renew its lease on the migration lock in time (see
	// [LockLease]), so another process may hold it; the run stopped before its next version.
	ErrLockLost = lock.ErrLost
	// ErrPooledSession: the session lock was taken in another server session than the one
	// the run's next statement reached (a connection pooler in transaction mode), where it
	// keeps nobody out; use [LockLease].
	ErrPooledSession = lock.ErrSessionMoved
)

// repositoryError reports a repository this dialect cannot use, naming the file at fault.
type repositoryError struct {
	file string
	err  error
}

func (e *repositoryError) Error() string { return e.file + ": " + e.err.Error() }

// Unwrap returns [ErrInvalidRepository] and the cause.
func (e *repositoryError) Unwrap() []error { return []error{ErrInvalidRepository, e.err} }

// LockTimeoutError reports a migration lock held elsewhere for longer than the timeout — on
// SQLite, a file another connection kept locked for that long.
type LockTimeoutError struct {
	Timeout time.Duration
	Holder  string // who holds the lock, when the database can tell
	Err     error  // the database's own error, when it gave one (SQLite's "database is locked")
}

func (e *LockTimeoutError) Error() string {
	msg := fmt.Sprintf("another process is migrating this database: lock not acquired within %v", e.Timeout)
	if e.Holder != "" {
		msg += "; held by " + e.Holder
	}
	return msg
}

// Unwrap returns [ErrLockTimeout] and the database's error.
func (e *LockTimeoutError) Unwrap() []error { return []error{ErrLockTimeout, e.Err} }

// OutOfOrderError reports versions below the database's current version that its history
// says were never applied: ratchet applies versions in order only.
type OutOfOrderError struct {
	Versions []int
	Current  int
}

func (e *OutOfOrderError) Error() string {
	return fmt.Sprintf("version(s) %s are below the current version %d but were never applied (added after later versions?); versions run in order only: renumber them above %d",
		joinInts(e.Versions), e.Current, e.Current)
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
	return msg + "; if its schema matches a version of this repository, put it under version control at that version"
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

// StoppedVersionError reports a version that stopped part way, as its journal records it:
// which statements are applied, and which statement failed or was running when the process
// stopped. Continue it with [Resume] (and, for a statement in flight, [InFlight]) or run it
// again with [Retry].
type StoppedVersionError struct {
	Version int
	// Phase is "upgrade", or the phase of a rolling version that stopped ("expand", …).
	Phase   string
	Script  string
	Applied int // statements 1..Applied are applied
	Total   int
	// Failed is the statement (1-based) that failed, with its Line and the database's
	// Message; 0 when the run was interrupted.
	Failed  int
	Line    int
	Message string
	// InFlight is the statement (1-based) that was running when the process stopped and
	// that commits by itself (DDL on MySQL; any statement of a no-transaction script): it
	// may or may not have taken effect, and only the operator can tell. 0 when none was.
	InFlight int
	// Earlier is the number of statements an earlier attempt had applied before the version
	// was retried from its first statement (they were to be undone by hand).
	Earlier int
}

func (e *StoppedVersionError) Error() string {
	var b strings.Builder
	what := fmt.Sprintf("version %d", e.Version)
	if e.Phase != "" && e.Phase != "upgrade" {
		what += " " + e.Phase
	}
	switch {
	case e.Failed > 0:
		where := e.Script
		if e.Line > 0 {
			where = fmt.Sprintf("%s:%d", e.Script, e.Line)
		}
		fmt.Fprintf(&b, "%s failed at statement %d of %d (%s: %s)", what, e.Failed, e.Total, where, e.Message)
	case e.InFlight > 0:
		fmt.Fprintf(&b, "%s was interrupted while statement %d of %d (%s) was running; it commits by itself, so it may or may not have taken effect",
			what, e.InFlight, e.Total, e.Script)
	default:
		fmt.Fprintf(&b, "%s was interrupted after statement %d of %d (%s)", what, e.Applied, e.Total, e.Script)
	}
	switch {
	case e.Applied == 1:
		b.WriteString("; statement 1 stays applied")
	case e.Applied > 1:
		fmt.Fprintf(&b, "; statements 1-%d stay applied", e.Applied)
	default:
		b.WriteString("; no statement of it is recorded as applied")
	}
	if e.Earlier > 0 {
		fmt.Fprintf(&b, " (an earlier attempt had applied statements 1-%d, which were to be undone before it was retried)", e.Earlier)
	}
	return b.String()
}

// Unwrap returns [ErrStopped].
func (e *StoppedVersionError) Unwrap() error { return ErrStopped }

// NextStatement returns the statement (1-based) a resumed version continues at, given
// whether a statement in flight took effect.
func (e *StoppedVersionError) NextStatement(inFlightCompleted bool) int {
	if e.InFlight > 0 && inFlightCompleted {
		return e.InFlight + 1
	}
	return e.Applied + 1
}

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
	return fmt.Sprintf("cannot resume version %d: statement %d (%s) was applied, but %s; restore it as it was, or retry the version from its first statement", e.Version, e.Statement, where, e.Reason)
}

// ScriptError reports a script that failed. The version it belongs to was rolled back where
// the dialect allows it; earlier versions stay applied.
type ScriptError struct {
	// Phase is "upgrade", or the phase of a rolling version the script belongs to.
	Phase     string
	Version   int
	Script    string // path relative to the repository, or "go:<name>"
	Line      int    // line of the failing statement in the script; 0 when unknown
	Statement string // the failing statement; empty for Go migrations and syntax errors
	Index     int    // the failing statement's 1-based position in the script; 0 when unknown
	Code      string // the database's own error code, when the driver exposes one
	Err       error
	// Journalled is true when the version could not be rolled back: Applied of Total
	// statements stay applied, and the next upgrade needs [Resume] or [Retry].
	Journalled     bool
	Applied, Total int
	// ConnectionLost is true when the statement failed because the session to the server
	// broke (server restarted or unreachable), not because of the script.
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
	case e.Journalled && e.Applied > 0:
		msg += fmt.Sprintf(" (version %d stopped after statement %d of %d, which stay applied)", e.Version, e.Applied, e.Total)
	case e.Journalled:
		msg += fmt.Sprintf(" (version %d stopped before any of its %d statements was recorded as applied)", e.Version, e.Total)
	case e.ConnectionLost:
		msg += fmt.Sprintf(" (version %d was not applied)", e.Version)
	}
	return msg
}

// Unwrap returns the underlying database or Go error.
func (e *ScriptError) Unwrap() error { return e.Err }
