package dburl

import (
	"slices"
	"strings"
)

// Redact replaces with "xxxxx" the password of every URL-looking substring of s
// ("scheme://user:pass@…"), of every go-sql-driver/mysql DSN ("user:pass@tcp(…)",
// "@unix(…)") and of every password=… or passwd=… key/value pair (the key in any case, as
// a suffix such as db_password, the value bare or quoted). It is meant for every error
// message that could embed a URL or DSN, driver errors included. It takes one pass over s
// per pattern and returns s itself when there is nothing to hide.
//
// Redact works on text, not on parsed URLs, so it errs on the side of hiding too much: in
// "postgres://h:5432/db?x=a@b" it hides "5432/db?x=a". A password containing white space
// or a quote is hidden only up to that character.
func Redact(s string) string {
	var spans []span
	spans = urlPasswords(s, spans)
	spans = dsnPasswords(s, spans)
	spans = keyValuePasswords(s, spans)
	if len(spans) == 0 {
		return s
	}
	return replaceSpans(s, spans)
}

// span is the byte range [start, end) of a password in a string.
type span struct{ start, end int }

// urlPasswords appends the passwords of "scheme://user:pass@" substrings, split as
// [Parse] splits them.
func urlPasswords(s string, spans []span) []span {
	for i := 0; ; {
		k := strings.Index(s[i:], "://")
		if k < 0 {
			return spans
		}
		start := i + k + len("://")
		end := start + tokenEnd(s[start:])
		if at, colon := userinfoSplit(s[start:end]); at >= 0 && colon >= 0 && colon+1 < at {
			spans = append(spans, span{start + colon + 1, start + at})
		}
		i = start
	}
}

// dsnPasswords appends the passwords of go-sql-driver/mysql DSNs: from the first ':' of
// the word before "@tcp(" (or tcp4, tcp6, unix) to that '@'.
func dsnPasswords(s string, spans []span) []span {
	for _, needle := range [...]string{"@tcp(", "@tcp4(", "@tcp6(", "@unix("} {
		for i := 0; ; {
			k := strings.Index(s[i:], needle)
			if k < 0 {
				break
			}
			at := i + k
			begin := strings.LastIndexFunc(s[:at], isTokenEnd) + 1
			if colon := strings.IndexByte(s[begin:at], ':'); colon >= 0 && begin+colon+1 < at {
				spans = append(spans, span{begin + colon + 1, at})
			}
			i = at + 1
		}
	}
	return spans
}

// keyValuePasswords appends the values of password=… and passwd=… pairs.
func keyValuePasswords(s string, spans []span) []span {
	for i := 0; ; {
		k := indexFold(s[i:], "passw")
		if k < 0 {
			return spans
		}
		j := i + k + len("passw")
		switch {
		case hasPrefixFold(s[j:], "ord"):
			j += len("ord")
		case hasPrefixFold(s[j:], "d"):
			j += len("d")
		default:
			i = j
			continue
		}
		j = skipBlanks(s, j)
		if j == len(s) || s[j] != '=' {
			i = j
			continue
		}
		j = skipBlanks(s, j+1)
		start, end := valueSpan(s, j)
		if start < end {
			spans = append(spans, span{start, end})
		}
		i = max(end, j)
	}
}

// valueSpan returns the value that starts at s[j]: up to the matching quote if it is
// quoted, else up to white space, '&' or a quote.
func valueSpan(s string, j int) (start, end int) {
	if j == len(s) {
		return j, j
	}
	if q := s[j]; q == '\'' || q == '"' {
		for end = j + 1; end < len(s) && s[end] != q; end++ {
			if s[end] == '\\' && end+1 < len(s) {
				end++
			}
		}
		return j + 1, min(end, len(s))
	}
	end = strings.IndexFunc(s[j:], func(r rune) bool { return r == '&' || isTokenEnd(r) })
	if end < 0 {
		return j, len(s)
	}
	return j, j + end
}

// tokenEnd returns the length of the URL-like word at the start of s.
func tokenEnd(s string) int {
	if i := strings.IndexFunc(s, isTokenEnd); i >= 0 {
		return i
	}
	return len(s)
}

// isTokenEnd reports whether r ends a URL or DSN embedded in a message.
func isTokenEnd(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', '"', '\'', '`', '<', '>':
		return true
	}
	return false
}

// replaceSpans replaces each span of s (in any order, possibly overlapping) by mask.
func replaceSpans(s string, spans []span) string {
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	b.Grow(len(s))
	done := 0
	for i := 0; i < len(spans); {
		start, end := spans[i].start, spans[i].end
		for i++; i < len(spans) && spans[i].start <= end; i++ {
			end = max(end, spans[i].end)
		}
		b.WriteString(s[done:start])
		b.WriteString(mask)
		done = end
	}
	b.WriteString(s[done:])
	return b.String()
}

// redactLoose is Redact for input that is not a URL: when Redact finds nothing to hide, it
// hides what lies between the first ':' and the last '@', as in "scott:tiger@host/db".
func redactLoose(s string) string {
	if r := Redact(s); r != s {
		return r
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	if colon := strings.IndexByte(s[:at], ':'); colon >= 0 && colon+1 < at {
		return s[:colon+1] + mask + s[at:]
	}
	return s
}

// isPasswordKey reports whether a query parameter holds a password.
func isPasswordKey(key string) bool {
	return strings.EqualFold(key, "password") || strings.EqualFold(key, "passwd")
}

// indexFold is strings.Index for a sub that starts with an ASCII lower-case letter,
// ignoring ASCII case in s.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i]|0x20 == sub[0] && hasPrefixFold(s[i:], sub) {
			return i
		}
	}
	return -1
}

// hasPrefixFold is strings.HasPrefix for an ASCII lower-case prefix, ignoring ASCII case in s.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// skipBlanks returns the index of the first byte of s at or after i that is not a space or
// a tab.
func skipBlanks(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}
