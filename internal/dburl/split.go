package dburl

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// urlParts is a URL split in the SQLAlchemy manner:
// scheme://[user[:password]@][host[:port]][/path][?query].
type urlParts struct {
	scheme   string // as written
	hasUser  bool   // user information ends with an '@'
	user     string // percent-decoded
	password string // percent-decoded
	hostport string // as written
	path     string // after the '/' ending the authority, up to the query; as written
	slash    bool   // a '/' ends the authority, even if no path follows
	query    string // after the '?', as written
	safe     string // the whole URL with its password replaced by mask, for messages
}

// splitURL splits rest, the text after "scheme://". It cannot fail: checking the parts is
// left to each dialect.
func splitURL(scheme, rest string) urlParts {
	p := urlParts{scheme: scheme, safe: scheme + "://" + rest}
	at, colon := userinfoSplit(rest)
	if at >= 0 {
		p.hasUser = true
		if colon >= 0 {
			p.user, p.password = unescape(rest[:colon], false), unescape(rest[colon+1:at], false)
			if colon+1 < at {
				p.safe = scheme + "://" + rest[:colon+1] + mask + rest[at:]
			}
		} else {
			p.user = unescape(rest[:at], false)
		}
		rest = rest[at+1:]
	}
	p.safe = Redact(p.safe)
	end := indexAnyOrLen(rest, "/?")
	p.hostport, rest = rest[:end], rest[end:]
	if path, ok := strings.CutPrefix(rest, "/"); ok {
		p.slash = true
		end := indexAnyOrLen(path, "?")
		p.path, rest = path[:end], path[end:]
	}
	p.query = strings.TrimPrefix(rest, "?")
	return p
}

// userinfoSplit finds the user information at the start of s, the text after "scheme://".
// It returns the index of the '@' that ends it (-1 when there is none) and the index of the
// ':' between user name and password (-1 when there is none).
//
// The rule is SQLAlchemy's (the user name ends at the first ':' or '/', the password at the
// next '@'), extended so that a password may contain '@': a host never does, so an '@'
// between the end of the password and the path belongs to the password.
func userinfoSplit(s string) (at, colon int) {
	at, colon = -1, -1
	j := indexAnyOrLen(s, ":/?")
	if j < len(s) && s[j] == ':' {
		if k := strings.IndexByte(s[j+1:], '@'); k >= 0 {
			at, colon = j+1+k, j
		}
	}
	if at < 0 {
		if at = strings.LastIndexByte(s[:j], '@'); at < 0 {
			return -1, -1
		}
	}
	hostEnd := at + 1 + indexAnyOrLen(s[at+1:], "/?")
	if k := strings.LastIndexByte(s[at+1:hostEnd], '@'); k >= 0 {
		at += 1 + k
	}
	return at, colon
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port" and checks the port.
func splitHostPort(hp string) (host, port string, err error) {
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", "", fmt.Errorf("missing ']' after IPv6 address %q", hp)
		}
		host, rest := hp[1:end], hp[end+1:]
		if rest != "" && rest[0] != ':' {
			return "", "", fmt.Errorf("unexpected %q after IPv6 address [%s]", rest, host)
		}
		port = strings.TrimPrefix(rest, ":")
		return host, port, checkPort(port)
	}
	host, port, _ = strings.Cut(hp, ":")
	return host, port, checkPort(port)
}

// checkPort accepts an empty port or a number from 1 to 65535.
func checkPort(port string) error {
	if port == "" {
		return nil
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("invalid port %q (want a number from 1 to 65535)", port)
	}
	return nil
}

// param is a query parameter.
type param struct {
	key, value string // decoded
	raw        string // "key=value" as written
}

// parseQuery splits a query string into parameters, in order. Like Python's parse_qsl it
// decodes '+' and percent escapes, keeps malformed escapes as written, and skips empty
// pieces; it never fails.
func parseQuery(q string) []param {
	var params []param
	for piece := range strings.SplitSeq(q, "&") {
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		params = append(params, param{key: unescape(k, true), value: unescape(v, true), raw: piece})
	}
	return params
}

// encodeQuery is the inverse of parseQuery for libpq's URI parser (which pgx mirrors): it
// percent-encodes, spaces included, since libpq does not read '+' as a space.
func encodeQuery(params []param) string {
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(percentEncode(p.key))
		b.WriteByte('=')
		b.WriteString(percentEncode(p.value))
	}
	return b.String()
}

// percentEncode is url.QueryEscape with spaces written %20.
func percentEncode(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// unescape decodes percent escapes (and '+' as a space when plus is set), keeping
// malformed escapes as written, as Python's urllib.parse.unquote does.
func unescape(s string, plus bool) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case c == '+' && plus:
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// indexAnyOrLen is strings.IndexAny, returning len(s) instead of -1.
func indexAnyOrLen(s, chars string) int {
	if i := strings.IndexAny(s, chars); i >= 0 {
		return i
	}
	return len(s)
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
