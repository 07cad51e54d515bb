package backup

import (
	"errors"
	"fmt"
)

// Sentinel errors that callers branch on with [errors.Is]. The typed errors below wrap them
// and carry the details.
var (
	// ErrNotBackup: the file is not a ratchet backup at all.
	ErrNotBackup = errors.New("not a ratchet backup")
	// ErrCorrupt: the file is a ratchet backup that was truncated or modified after it was
	// written (its size or checksum does not match its manifest).
	ErrCorrupt = errors.New("backup is truncated or corrupt")
	// ErrMismatch: the backup is of another dialect or another repository than the target.
	ErrMismatch = errors.New("backup does not match the target database")
	// ErrToolMissing: the external dump or restore tool is not installed.
	ErrToolMissing = errors.New("backup tool not found")
	// ErrToolTooOld: the external tool is older than the server or the backup it must read.
	ErrToolTooOld = errors.New("backup tool too old")
	// ErrToolFailed: the external tool ran and failed.
	ErrToolFailed = errors.New("backup tool failed")
	// ErrInUse: an SQLite database cannot be replaced because another process has it open
	// with uncommitted or uncheckpointed changes.
	ErrInUse = errors.New("database is in use")
)

// FileError reports a backup file that cannot be used: not a backup ([ErrNotBackup]), or
// truncated or tampered with ([ErrCorrupt]).
type FileError struct {
	Path   string
	Reason string
	Err    error // ErrNotBackup or ErrCorrupt
}

// Error returns "<path>: <reason>".
func (e *FileError) Error() string { return e.Path + ": " + e.Reason }

// Unwrap returns [ErrNotBackup] or [ErrCorrupt].
func (e *FileError) Unwrap() error { return e.Err }

// MismatchError reports a backup taken from another kind of database or for another
// repository than the one it is to be restored into.
type MismatchError struct {
	Path   string
	Field  string // "dialect" or "repository"
	Backup string // the backup's value
	Target string // the target's value
}

// Error says what the backup holds and what the target is.
func (e *MismatchError) Error() string {
	if e.Field == "dialect" {
		return fmt.Sprintf("%s is a backup of a %s database; it cannot be restored into a %s database", e.Path, e.Backup, e.Target)
	}
	return fmt.Sprintf("%s is a backup for repository %q, not for this repository %q", e.Path, e.Backup, e.Target)
}

// Unwrap returns [ErrMismatch].
func (e *MismatchError) Unwrap() error { return ErrMismatch }

// ToolError reports an external tool (pg_dump, mariadb-dump, …) that is missing, too old, or
// failed. Its message names the Debian package to install where installing one is the fix.
// Stderr holds the end of the tool's error output with passwords removed.
type ToolError struct {
	Tool    string // the program, e.g. "pg_dump"
	Package string // the Debian package that provides a suitable version
	Reason  string // what went wrong, for ErrToolTooOld and ErrToolFailed
	Stderr  string
	Err     error // ErrToolMissing, ErrToolTooOld or ErrToolFailed
}

// Error returns one line naming the tool, what went wrong and, for a missing or old tool, the
// package to install.
func (e *ToolError) Error() string {
	switch e.Err {
	case ErrToolMissing:
		return fmt.Sprintf("%s not found in PATH: install the Debian package %s", e.Tool, e.Package)
	case ErrToolTooOld:
		return fmt.Sprintf("%s: install the Debian package %s", e.Reason, e.Package)
	}
	msg := e.Tool + " failed: " + e.Reason
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// Unwrap returns [ErrToolMissing], [ErrToolTooOld] or [ErrToolFailed].
func (e *ToolError) Unwrap() error { return e.Err }
