package sqlsplit

import "strconv"

// SyntaxError reports a script that cannot be split into statements: an unterminated
// quote, comment, dollar quote or BEGIN … END block, or a bad DELIMITER line. Line is the
// 1-based line where the offending construct starts.
type SyntaxError struct {
	Line int
	Msg  string
}

// Error returns "line N: <message>".
func (e *SyntaxError) Error() string {
	return "line " + strconv.Itoa(e.Line) + ": " + e.Msg
}
