package sqlsplit

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Statement is one statement of a script.
type Statement struct {
	// Text runs from the statement's first token up to, not including, its terminator,
	// with trailing whitespace removed. Comments inside the statement are kept; comments
	// before its first token are not part of it.
	Text string
	// Line is the 1-based line of the first token.
	Line int
	// Offset is the byte offset of the first token in the script, so that
	// script[Offset:Offset+len(Text)] == Text.
	Offset int
	// FromStdin is true for a PostgreSQL COPY … FROM STDIN, whose rows follow it in the
	// script, as pg_dump writes them: Rows holds them, from the line after the statement up
	// to, not including, the "\." line that ends them. They go to the server through the
	// COPY protocol, as psql sends them.
	FromStdin bool
	Rows      string
}

// byteOrderMark is the UTF-8 byte order mark some editors write at the start of a file.
const byteOrderMark = "\uFEFF"

// Split splits script into statements under the lexical rules of d.
//
// Statements end at ";" outside quotes, comments and compound blocks, or, in MySQL, at
// the terminator set by the last DELIMITER directive; the final statement needs no
// terminator. Empty statements and comment-only stretches yield nothing, and a byte order
// mark at the start of the script is skipped. A script that cannot be split yields a
// [*SyntaxError]; an unknown dialect yields a plain error.
func Split(script string, d Dialect) ([]Statement, error) {
	rules, ok := d.rules()
	if !ok {
		return nil, errors.New("sqlsplit: unknown dialect " + d.String())
	}
	if err := nulByte(script); err != nil {
		return nil, err
	}
	s := &scanner{src: script, rules: rules, delim: ";", line: 1}
	s.track.rules = rules.blocks
	return s.split()
}

// scanner holds the state of one Split call.
type scanner struct {
	src   string
	rules lexRules
	delim string // the active terminator
	track tracker

	line    int // the line number at byte lineOff
	lineOff int
}

// split scans the whole script.
func (s *scanner) split() ([]Statement, error) {
	var stmts []Statement
	i := 0
	if strings.HasPrefix(s.src, byteOrderMark) {
		i = len(byteOrderMark)
	}
	for {
		start, err := s.skipSpace(i)
		if err != nil {
			return nil, err
		}
		if start == len(s.src) {
			return stmts, nil
		}
		if s.rules.delimiterDirective {
			next, ok, err := s.directive(start)
			if err != nil {
				return nil, err
			}
			if ok {
				i = next
				continue
			}
		}
		end, next, err := s.statement(start)
		if err != nil {
			return nil, err
		}
		if text := strings.TrimRightFunc(s.src[start:end], func(r rune) bool { return r < utf8.RuneSelf && s.space(byte(r)) }); text != "" {
			st := Statement{Text: text, Line: s.advanceLine(start), Offset: start}
			if s.rules.metaCommands && copyFromStdin(text) {
				if st.Rows, next, err = s.copyRows(end); err != nil {
					return nil, err
				}
				st.FromStdin = true
			}
			stmts = append(stmts, st)
		}
		i = next
	}
}

// copyRows returns the rows of the COPY … FROM STDIN statement whose terminator is at end:
// the lines after the statement's own, up to the "\." line, and the offset after that line.
func (s *scanner) copyRows(end int) (rows string, next int, err error) {
	src := s.src
	first := lineEnd(src, end)
	for i := first; i < len(src); {
		j := lineEnd(src, i)
		if strings.TrimRight(src[i:j], "\r\n") == `\.` {
			return src[first:i], j, nil
		}
		i = j
	}
	return "", 0, s.errorAt(end, `COPY … FROM STDIN: its rows are not ended by a "\." line`)
}

// advanceLine returns the line of byte off, which must not precede any offset passed
// before, and counts the lines only once.
func (s *scanner) advanceLine(off int) int {
	s.line += strings.Count(s.src[s.lineOff:off], "\n")
	s.lineOff = off
	return s.line
}

// lineOf returns the line of byte off without moving the line counter.
func (s *scanner) lineOf(off int) int {
	if off < s.lineOff {
		return 1 + strings.Count(s.src[:off], "\n")
	}
	return s.line + strings.Count(s.src[s.lineOff:off], "\n")
}

// errorAt returns a SyntaxError for the construct starting at byte off.
func (s *scanner) errorAt(off int, msg string) *SyntaxError {
	return &SyntaxError{Line: s.lineOf(off), Msg: msg}
}

// skipSpace skips whitespace and comments from i and returns the offset of the next
// token, of the next terminator, or the end of the script.
func (s *scanner) skipSpace(i int) (int, error) {
	src := s.src
	for i < len(src) {
		c := src[i]
		switch {
		case c == s.delim[0] && strings.HasPrefix(src[i:], s.delim):
			return i, nil
		case s.space(c):
			i++
		case c >= utf8.RuneSelf:
			return i, nil // a word's byte to every supported database
		default:
			end, ok, err := s.comment(i)
			if err != nil {
				return 0, err
			}
			if !ok {
				return i, nil
			}
			i = end
		}
	}
	return i, nil
}

// statement scans the statement whose first token is at start. It returns the offset
// of its terminator (or the end of the script) and the offset after the terminator.
func (s *scanner) statement(start int) (end, next int, err error) {
	src, delim := s.src, s.delim
	custom := delim != ";"
	// Under a custom delimiter the author marks every end, as the mysql client expects:
	// nothing inside a statement can hold the terminator back, so blocks are not tracked.
	s.track.reset(!custom)
	paren := 0
	inExecComment := false
	i := start
	for i < len(src) {
		c := src[i]
		if c == delim[0] && strings.HasPrefix(src[i:], delim) {
			if custom || s.track.depth() == 0 && (paren == 0 || !s.rules.parenHoldsTerminator) {
				return i, i + len(delim), nil
			}
			s.track.punct(';')
			i++
			continue
		}
		switch {
		case s.space(c):
			i++
		case c == '\'':
			i, err = s.quoted(i, s.rules.backslashEscapes, "string literal")
			s.track.quoted(false)
		case c == '"':
			i, err = s.quoted(i, s.rules.backslashEscapes, `"…" quoted identifier or string`)
			s.track.quoted(false)
		case c == '`' && s.rules.backticks:
			i, err = s.quoted(i, false, "`…` quoted identifier")
			s.track.quoted(true)
		case c == '[' && s.rules.brackets:
			i, err = s.bracketed(i)
			s.track.quoted(false)
		case c == '$' && s.rules.dollarQuotes:
			i, err = s.dollar(i, paren)
		case isIdent(c):
			i, err = s.word(i, paren)
		case c == '(':
			paren++
			s.track.punct(c)
			i++
		case c == ')':
			paren = max(paren-1, 0)
			s.track.punct(c)
			i++
		case inExecComment && c == '*' && strings.HasPrefix(src[i:], "*/"):
			// The end of a MySQL executable comment is neither text nor punctuation.
			inExecComment = false
			i += len("*/")
		case s.rules.executableComments && c == '/' && execCommentLen(src[i:]) > 0:
			// A MySQL executable comment (/*! … */, or MariaDB's /*M! … */) is statement
			// text, and the server decides by its version whether to run it. Its version
			// number is skipped so that /*!50003 CREATE*/ … TRIGGER is recognised as a
			// trigger.
			inExecComment = true
			i += execCommentLen(src[i:])
			for i < len(src) && '0' <= src[i] && src[i] <= '9' {
				i++
			}
		case c == '\\' && s.rules.metaCommands:
			if err = s.metaCommand(i); err == nil {
				i++
			}
		default:
			i, err = s.commentOrPunct(i)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	if s.track.depth() > 0 {
		b := s.track.innermost()
		return 0, 0, s.errorAt(b.off, "unterminated "+b.kind.describe()+
			" (the statement starting at line "+strconv.Itoa(s.lineOf(start))+
			" runs to the end of the script)")
	}
	return len(src), len(src), nil
}

// dollar scans the PostgreSQL dollar quote at i or, if none opens there, the word that
// starts with "$" (a parameter such as $1).
func (s *scanner) dollar(i, paren int) (int, error) {
	end, ok, err := s.dollarQuoted(i)
	switch {
	case err != nil:
		return 0, err
	case !ok:
		return s.word(i, paren)
	}
	s.track.quoted(false)
	return end, nil
}

// commentOrPunct skips the comment at i or, if none starts there, feeds the punctuation
// byte at i to the block tracker.
func (s *scanner) commentOrPunct(i int) (int, error) {
	end, ok, err := s.comment(i)
	switch {
	case err != nil:
		return 0, err
	case ok:
		return end, nil
	}
	s.track.punct(s.src[i])
	return i + 1, nil
}

// word scans the word (keyword, identifier, number or parameter) at i and feeds it to
// the block tracker. A PostgreSQL E'…' string starts like a word and is scanned here.
func (s *scanner) word(i, paren int) (int, error) {
	src, delim := s.src, s.delim
	start := i
	for i < len(src) && isIdent(src[i]) {
		if src[i] == delim[0] && i > start && strings.HasPrefix(src[i:], delim) {
			break // a custom delimiter such as $$ right after a word
		}
		i++
	}
	if s.rules.escapeStrings && i == start+1 && src[start]|0x20 == 'e' && i < len(src) && src[i] == '\'' {
		end, err := s.quoted(i, true, "E'…' string")
		s.track.quoted(false)
		return end, err
	}
	if s.track.active() {
		qualified := start > 0 && s.isQualifier(src[start-1]) || i < len(src) && src[i] == '.'
		s.track.word(lookupKeyword(src[start:i]), qualified, paren, start)
	}
	return i, nil
}

// isQualifier reports whether c, right before a word, makes the word a name (t.begin,
// @end, :begin) rather than a keyword.
func (s *scanner) isQualifier(c byte) bool {
	return c == '.' || c == '@' || c == ':' && s.rules.colonParams
}
