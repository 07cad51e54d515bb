package sqlsplit

import "strings"

// space reports whether c is whitespace to the database's own client: ASCII only, since
// every supported database reads other bytes (a no-break space, say) as part of a word.
func (s *scanner) space(c byte) bool { return isSpace(c) }

// isSpace reports whether c is ASCII whitespace.
func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\v', '\f':
		return true
	}
	return false
}

// isIdent reports whether c may be part of a word: an ASCII letter or digit, "_", "$",
// or any byte of a multi-byte UTF-8 sequence.
func isIdent(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '$' || c >= 0x80
}

// isDollarTag reports whether c may be part of a dollar-quote tag; a tag cannot start
// with a digit.
func isDollarTag(c byte, first bool) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c >= 0x80 ||
		!first && '0' <= c && c <= '9'
}

// lineEnd returns the offset just after the newline that ends the line containing i,
// or the end of src.
func lineEnd(src string, i int) int {
	if n := strings.IndexByte(src[i:], '\n'); n >= 0 {
		return i + n + 1
	}
	return len(src)
}

// comment reports whether a comment starts at i and returns the offset after it.
func (s *scanner) comment(i int) (end int, ok bool, err error) {
	src := s.src
	rest := src[i:]
	switch {
	case strings.HasPrefix(rest, "--"):
		if s.rules.dashCommentNeedsSpace && len(rest) > 2 && rest[2] > ' ' && rest[2] != 0x7f {
			return i, false, nil // MySQL: "--x" is two minus signs
		}
		return lineEnd(src, i), true, nil
	case rest[0] == '#' && s.rules.hashComments:
		return lineEnd(src, i), true, nil
	case rest[0] == '\\' && s.rules.metaCommands && restrictLine(src, i):
		return lineEnd(src, i), true, nil
	case strings.HasPrefix(rest, "/*"):
		if s.rules.executableComments && execCommentLen(rest) > 0 {
			return i, false, nil
		}
		end, err := s.blockComment(i)
		return end, err == nil, err
	}
	return i, false, nil
}

// restrictLine reports whether the line at i is psql's \restrict or \unrestrict, which every
// pg_dump file has written since August 2025. They only stop psql itself from running
// meta-commands in the rest of the file and change nothing on the server, so between
// statements they read as comments, and a plain pg_dump file can be a version.
func restrictLine(src string, i int) bool {
	j := i
	for j > 0 && (src[j-1] == ' ' || src[j-1] == '\t') {
		j--
	}
	if j > 0 && src[j-1] != '\n' {
		return false
	}
	line := src[i+1 : lineEnd(src, i)]
	name, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	return name == "restrict" || name == "unrestrict"
}

// blockComment returns the offset after the /* … */ comment starting at i.
func (s *scanner) blockComment(i int) (int, error) {
	src := s.src
	if !s.rules.nestedComments {
		if n := strings.Index(src[i+2:], "*/"); n >= 0 {
			return i + 2 + n + 2, nil
		}
		return 0, s.errorAt(i, "unterminated /* … */ comment")
	}
	depth := 1
	for j := i + 2; j < len(src); {
		n := strings.IndexAny(src[j:], "*/")
		if n < 0 {
			break
		}
		j += n
		switch {
		case strings.HasPrefix(src[j:], "*/"):
			j += 2
			if depth--; depth == 0 {
				return j, nil
			}
		case strings.HasPrefix(src[j:], "/*"):
			j += 2
			depth++
		default:
			j++
		}
	}
	return 0, s.errorAt(i, "unterminated /* … */ comment")
}

// quoted returns the offset after the quoted string or identifier opening at i. The
// quote is escaped by doubling it and, when backslash is set, by a backslash, which
// escapes any byte.
func (s *scanner) quoted(i int, backslash bool, what string) (int, error) {
	src := s.src
	q := src[i]
	for j := i + 1; j < len(src); {
		var n int
		if backslash {
			n = strings.IndexAny(src[j:], escapedQuoteStops(q))
		} else {
			n = strings.IndexByte(src[j:], q)
		}
		if n < 0 {
			break
		}
		j += n
		switch {
		case src[j] == '\\':
			j += 2
		case j+1 < len(src) && src[j+1] == q:
			j += 2
		default:
			return j + 1, nil
		}
	}
	return 0, s.errorAt(i, "unterminated "+what)
}

// escapedQuoteStops returns the bytes that end or escape a string quoted by q when
// backslash escapes apply.
func escapedQuoteStops(q byte) string {
	if q == '"' {
		return `"\`
	}
	return `'\`
}

// bracketed returns the offset after the [bracketed] identifier opening at i.
func (s *scanner) bracketed(i int) (int, error) {
	if n := strings.IndexByte(s.src[i+1:], ']'); n >= 0 {
		return i + 1 + n + 1, nil
	}
	return 0, s.errorAt(i, "unterminated [bracketed] identifier")
}

// dollarQuoted reports whether a PostgreSQL dollar quote ($$ or $tag$) opens at i and
// returns the offset after its closing tag. A "$" that does not open a tag, such as the
// parameter $1, is not a quote.
func (s *scanner) dollarQuoted(i int) (end int, ok bool, err error) {
	src := s.src
	j := i + 1
	for j < len(src) && isDollarTag(src[j], j == i+1) {
		j++
	}
	if j == len(src) || src[j] != '$' {
		return i, false, nil
	}
	tag := src[i : j+1]
	n := strings.Index(src[j+1:], tag)
	if n < 0 {
		return 0, false, s.errorAt(i, "unterminated dollar-quoted string: no closing "+tag)
	}
	return j + 1 + n + len(tag), true, nil
}

// execCommentLen returns the length of the opening of a MySQL executable comment at the
// start of s, "/*!" or MariaDB's "/*M!", or 0 if none opens there.
func execCommentLen(s string) int {
	switch {
	case strings.HasPrefix(s, "/*!"):
		return len("/*!")
	case strings.HasPrefix(s, "/*M!"):
		return len("/*M!")
	}
	return 0
}
