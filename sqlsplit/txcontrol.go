package sqlsplit

import "strings"

// noTransactionMarker is the comment that opts a script out of the per-version
// transaction.
const noTransactionMarker = "-- ratchet:no-transaction"

// IsTransactionControl reports whether stmt is a standalone transaction-control statement
// that migration scripts must not run themselves and that ratchet skips with a warning,
// as the legacy tool did: a single-line statement whose first keyword is BEGIN, COMMIT or
// END, optionally followed by DEFERRED, IMMEDIATE or EXCLUSIVE (after BEGIN) and by
// TRANSACTION or WORK. Letter case, comments and a trailing ";" do not matter. ROLLBACK
// is not transaction control in this sense and is never skipped. Multi-line statements
// (a BEGIN … END compound, say) are never transaction control.
func IsTransactionControl(stmt string) bool {
	stmt = strings.TrimSpace(stmt)
	if strings.ContainsAny(stmt, "\n\r") {
		return false
	}
	words, n, ok := controlWords(stmt)
	if !ok || n == 0 {
		return false
	}
	first, rest := words[0], words[1:n]
	switch {
	case strings.EqualFold(first, "BEGIN"):
		if len(rest) > 0 && isOneOf(rest[0], "DEFERRED", "IMMEDIATE", "EXCLUSIVE") {
			rest = rest[1:]
		}
	case strings.EqualFold(first, "COMMIT"), strings.EqualFold(first, "END"):
	default:
		return false
	}
	if len(rest) > 0 && isOneOf(rest[0], "TRANSACTION", "WORK") {
		rest = rest[1:]
	}
	return len(rest) == 0
}

// controlWords returns the first n words of a one-line statement, skipping comments and
// trailing semicolons. It fails on anything but letters, spaces, comments and those
// semicolons, and on more words than transaction control has (BEGIN IMMEDIATE TRANSACTION).
// It allocates nothing: it runs on every statement of every script.
func controlWords(stmt string) (words [3]string, n int, ok bool) {
	for i := 0; i < len(stmt); {
		c := stmt[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case strings.HasPrefix(stmt[i:], "--"):
			i = len(stmt)
		case strings.HasPrefix(stmt[i:], "/*"):
			end := strings.Index(stmt[i+2:], "*/")
			if end < 0 {
				return words, 0, false
			}
			i += 2 + end + 2
		case c == ';':
			if strings.Trim(stmt[i:], "; \t") != "" {
				return words, 0, false
			}
			i = len(stmt)
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			j := i
			for j < len(stmt) && ('a' <= stmt[j] && stmt[j] <= 'z' || 'A' <= stmt[j] && stmt[j] <= 'Z') {
				j++
			}
			if n == len(words) {
				return words, 0, false
			}
			words[n] = stmt[i:j]
			n++
			i = j
		default:
			return words, 0, false
		}
	}
	return words, n, true
}

// isOneOf reports whether w equals one of the upper-case words, ignoring case.
func isOneOf(w string, upper ...string) bool {
	for _, u := range upper {
		if strings.EqualFold(w, u) {
			return true
		}
	}
	return false
}

// NoTransaction reports whether the script opts out of the per-version transaction: its
// first non-blank line is exactly the comment "-- ratchet:no-transaction", with only
// spaces or tabs around it (and a carriage return before the newline). The marker is
// case-sensitive. A byte order mark at the start of the script is ignored.
func NoTransaction(script string) bool {
	script = strings.TrimPrefix(script, byteOrderMark)
	for line := range strings.Lines(script) {
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		return line == noTransactionMarker
	}
	return false
}

// Keyword returns the first keyword of a statement, upper-cased ("CREATE", "INSERT", …),
// skipping blanks and comments, or "" when the statement does not start with a word (an
// executable comment, a parenthesis).
func Keyword(stmt string) string {
	for i := 0; i < len(stmt); {
		c := stmt[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case strings.HasPrefix(stmt[i:], "--") || c == '#':
			n := strings.IndexByte(stmt[i:], '\n')
			if n < 0 {
				return ""
			}
			i += n + 1
		case strings.HasPrefix(stmt[i:], "/*") && !strings.HasPrefix(stmt[i:], "/*!"):
			n := strings.Index(stmt[i+2:], "*/")
			if n < 0 {
				return ""
			}
			i += 2 + n + 2
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			j := i
			for j < len(stmt) && ('a' <= stmt[j] && stmt[j] <= 'z' || 'A' <= stmt[j] && stmt[j] <= 'Z' || stmt[j] == '_') {
				j++
			}
			return strings.ToUpper(stmt[i:j])
		default:
			return ""
		}
	}
	return ""
}

// ControlsTransaction reports whether stmt starts, ends or chains a transaction in a way
// IsTransactionControl does not cover — ROLLBACK, COMMIT AND CHAIN, START TRANSACTION, a
// multi-line BEGIN, ABORT — and so would break the transaction ratchet runs a version in.
// ROLLBACK TO a savepoint, and SAVEPOINT itself, stay inside it.
func ControlsTransaction(stmt string) bool {
	switch Keyword(stmt) {
	case "COMMIT", "END", "ABORT", "BEGIN":
		return true
	case "START":
		return hasWord(stmt, "TRANSACTION")
	case "ROLLBACK":
		return !hasWord(stmt, "TO")
	}
	return false
}

// hasWord reports whether one of stmt's blank-separated words is word, ignoring case and a
// trailing semicolon.
func hasWord(stmt, word string) bool {
	for _, f := range strings.Fields(stmt) {
		if strings.EqualFold(strings.TrimRight(f, ";"), word) {
			return true
		}
	}
	return false
}
