package sqlsplit

import (
	"regexp"
	"strconv"
	"strings"
)

// nulByte refuses a script holding a NUL byte. No SQL text holds one, and databases
// disagree on what follows it: SQLite stops reading a statement there, so the rest of
// the script would be skipped without an error.
func nulByte(script string) *SyntaxError {
	i := strings.IndexByte(script, 0)
	if i < 0 {
		return nil
	}
	line := 1 + strings.Count(script[:i], "\n")
	col := i - strings.LastIndexByte(script[:i], '\n')
	return &SyntaxError{Line: line, NotSQL: true,
		Msg: "NUL byte (0x00) at column " + strconv.Itoa(col) + ": a script must be text; the database would ignore what follows it"}
}

// metaCommand refuses the backslash at i when it starts a line: psql reads it as one of
// its own commands (\connect, \set, \i, …), which ratchet cannot run and no server
// understands. The rows of a COPY … FROM STDIN are not scanned at all (see copyRows).
func (s *scanner) metaCommand(i int) error {
	src := s.src
	j := i
	for j > 0 && (src[j-1] == ' ' || src[j-1] == '\t') {
		j--
	}
	if j > 0 && src[j-1] != '\n' {
		return nil // inside a line: not a command for psql's line reader
	}
	name := src[i+1:]
	if n := strings.IndexAny(name, " \t\r\n;"); n >= 0 {
		name = name[:n]
	}
	if len(name) > 20 {
		name = name[:20] + "…"
	}
	return &SyntaxError{Line: s.lineOf(i), NotSQL: true,
		Msg: `psql meta-command \` + name + ` is not SQL: ratchet sends scripts to the server, which cannot run psql commands; remove it`}
}

// copyFrom matches a COPY statement that reads its rows from the script itself.
var copyFrom = regexp.MustCompile(`(?is)^copy\b.*\bfrom\s+stdin\b`)

// copyFromStdin reports whether text is a COPY … FROM STDIN statement, whose data rows
// follow it in the script up to a "\." line.
func copyFromStdin(text string) bool {
	return len(text) > 4 && strings.EqualFold(text[:4], "copy") && copyFrom.MatchString(text)
}

// NotSQL returns the first part of script that is not SQL at all and that no database
// must be sent, or nil: a NUL byte under every dialect, or, under PostgreSQL, a psql
// meta-command at the start of a line outside literals and COPY data. It is what
// [Split] refuses with a [*SyntaxError] whose NotSQL is true, found at the cost of a
// byte search for the scripts that have neither.
func NotSQL(script string, d Dialect) *SyntaxError {
	if err := nulByte(script); err != nil {
		return err
	}
	rules, ok := d.rules()
	if !ok || !rules.metaCommands || !backslashStartsLine(script) {
		return nil
	}
	s := &scanner{src: script, rules: rules, delim: ";", line: 1}
	s.track.rules = rules.blocks
	if _, err := s.split(); err != nil {
		if se, ok := err.(*SyntaxError); ok && se.NotSQL {
			return se
		}
	}
	return nil
}

// backslashStartsLine reports whether any line of script starts with a backslash after
// optional blanks.
func backslashStartsLine(script string) bool {
	for i := strings.IndexByte(script, '\\'); i >= 0; {
		j := i
		for j > 0 && (script[j-1] == ' ' || script[j-1] == '\t') {
			j--
		}
		if j == 0 || script[j-1] == '\n' {
			return true
		}
		n := strings.IndexByte(script[i+1:], '\\')
		if n < 0 {
			return false
		}
		i += 1 + n
	}
	return false
}
