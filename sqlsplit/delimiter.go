package sqlsplit

import (
	"strconv"
	"strings"
)

// delimiterCommand is the mysql client directive that changes the statement terminator.
const delimiterCommand = "delimiter"

// directive handles a MySQL client DELIMITER directive whose first letter is at i, the
// first token of a statement. It reports whether there is one and returns the offset of
// the next line. "DELIMITER xx" must stand alone on its line and sets the terminator to
// xx, any run of non-space characters without a backslash or quote; "DELIMITER ;"
// restores the default.
func (s *scanner) directive(i int) (next int, ok bool, err error) {
	src := s.src
	j := i + len(delimiterCommand)
	if j > len(src) || !strings.EqualFold(src[i:j], delimiterCommand) || j < len(src) && isIdent(src[j]) {
		return i, false, nil
	}
	lineStart := strings.LastIndexByte(src[:i], '\n') + 1
	if strings.TrimSpace(src[lineStart:i]) != "" {
		return 0, false, s.errorAt(i, "DELIMITER must start its own line")
	}
	next = lineEnd(src, j)
	arg := strings.TrimSpace(src[j:next])
	if arg == "" {
		return 0, false, s.errorAt(i, "DELIMITER needs an argument: the new statement terminator, such as $$ or //")
	}
	if n := strings.IndexAny(arg, " \t"); n >= 0 {
		return 0, false, s.errorAt(i, "DELIMITER takes one argument, found "+strconv.Quote(arg))
	}
	if strings.ContainsAny(arg, "\\'\"`") {
		return 0, false, s.errorAt(i, "DELIMITER "+strconv.Quote(arg)+": a delimiter cannot contain a backslash or a quote")
	}
	s.delim = arg
	return next, true, nil
}
