package sqlsplit

import "strconv"

// SyntaxError reports a script that cannot be split into statements: an unterminated
// quote, comment, dollar quote or BEGIN … END block, a bad DELIMITER line, or something
// that is not SQL at all (see [NotSQL]). Line is the 1-based line where the offending
// construct starts.
type SyntaxError struct {
	Line int
	Msg  string
	// NotSQL is true when the script holds something that is not SQL at all: a NUL byte,
	// or a psql meta-command in a PostgreSQL script. Such a script is bad input, not a
	// broken statement.
	NotSQL bool
}

// Error returns "line N: <message>".
func (e *SyntaxError) Error() string {
	return "line " + strconv.Itoa(e.Line) + ": " + e.Msg
}
