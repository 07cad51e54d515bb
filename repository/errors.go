package repository

import "strconv"

// Error is a problem with a repository: a missing file or directory, an
// invalid migrate.cfg, or a script name that cannot be used.
//
// Path is relative to the repository root ("versions/001_x.sql",
// "migrate.cfg"), except for problems with the repository directory itself,
// where it is that directory as given to [Open].
type Error struct {
	Path   string
	Line   int // the line at fault in the file, when there is one
	Reason string

	err error // underlying I/O error, if any
}

// Error returns "<path>: <reason>", or "<path>:<line>: <reason>".
func (e *Error) Error() string {
	if e.Line > 0 {
		return e.Path + ":" + strconv.Itoa(e.Line) + ": " + e.Reason
	}
	return e.Path + ": " + e.Reason
}

// Unwrap returns the I/O error that caused e, if any, so that
// errors.Is(err, fs.ErrNotExist) and similar checks work.
func (e *Error) Unwrap() error {
	return e.err
}
