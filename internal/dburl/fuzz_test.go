package dburl

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzSeeds are inputs of every accepted form and of the usual mistakes.
var fuzzSeeds = []string{
	"sqlite:///relative.db", "sqlite:////abs/path.db", "sqlite://", "sqlite:///:memory:", "sqlite+pysqlite:///x.db?mode=ro",
	"x.sqlite3", "/abs/x.db", "sqlite://x.db",
	"postgresql+psycopg2://user:pwd@host:5432/db?sslmode=disable", "postgres://u:p@ss:w@h/db", "postgres://u:p%40ss@[::1]:5433/db",
	"postgres://h:5432/db?user=a@b&password=abc", "postgresql:///db?host=/var/run/postgresql",
	"mysql+pymysql://glance:pwd@h/glance?charset=utf8", "mariadb://root:pwd@127.0.0.1:3306/glance?unix_socket=/run/s.sock",
	"mysql://h/db?ssl_mode=REQUIRED&sql_mode=ANSI&connect_timeout=1.5", "mysql://u:pa/ss@h/db?password=xyz",
	"oracle://scott:tiger@h/db", "scott:tiger@h/db", "", "mysql:u:pwd@h/db", "file:x.db",
}

// alnum3 matches the passwords the fuzz properties are checked for: letters and digits,
// three or more of them (shorter ones occur by chance in any text).
var alnum3 = regexp.MustCompile(`^[A-Za-z0-9]{3,}$`)

// alnum matches user names in FuzzRedact.
var alnum = regexp.MustCompile(`^[A-Za-z0-9]*$`)

// inputPassword matches the password of "scheme://user:password@" at the start of an input.
var inputPassword = regexp.MustCompile(`^\s*[A-Za-z][A-Za-z0-9+._-]*://[A-Za-z0-9]*:([A-Za-z0-9]{3,})@`)

// FuzzParse checks that Parse never panics, that String never shows the password of a URL
// Parse accepted, and that Parse's errors never show the password of the input.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := Parse(raw)
		if err != nil {
			m := inputPassword.FindStringSubmatchIndex(raw)
			if m == nil {
				return
			}
			pw, rest := raw[m[2]:m[3]], raw[:m[2]]+raw[m[3]:]
			if strings.Contains(rest, pw) || strings.Contains(unescape(rest, true), pw) ||
				strings.Contains(strconv.Quote(rest), pw) || strings.Trim(pw, "x") == "" {
				return // the same text occurs elsewhere in the input, or in its quoted form
			}
			if strings.Contains(err.Error(), pw) {
				t.Fatalf("Parse(%q) error shows the password %q: %v", raw, pw, err)
			}
			return
		}
		s := u.String()
		u.DSN(DSNOptions{BusyTimeout: time.Second, ReadOnly: true})
		u.DSN(DSNOptions{})
		secrets := []string{u.x.password}
		public := []string{mask, u.x.scheme, url.User(u.User).String(), joinHostPort(u.Host, u.Port), u.Database, url.PathEscape(u.Database)}
		for _, p := range u.x.params {
			if isPasswordKey(p.key) {
				secrets = append(secrets, p.value)
				public = append(public, url.QueryEscape(p.key))
			} else {
				public = append(public, p.raw)
			}
		}
		for _, pw := range secrets {
			if alnum3.MatchString(pw) && strings.Contains(s, pw) && !strings.Contains(strings.Join(public, "\x00"), pw) {
				t.Fatalf("Parse(%q).String() = %q shows the password %q", raw, s, pw)
			}
		}
	})
}

// FuzzRedact checks that Redact hides the password of a "scheme://user:pw@host" URL
// embedded anywhere in arbitrary text.
func FuzzRedact(f *testing.F) {
	f.Add("error: ", "glance", "s3cret", "/glance?charset=utf8 failed")
	f.Add(`connect "`, "", "abc", `:5432/db": refused`)
	f.Add("x://a", "u", "pwd", "@y/z password=q")
	f.Add("", "root", "xyz", "")
	f.Fuzz(func(t *testing.T, prefix, user, pw, suffix string) {
		if !alnum3.MatchString(pw) || strings.Trim(pw, "x") == "" || !alnum.MatchString(user) {
			return
		}
		s := prefix + "mysql://" + user + ":" + pw + "@host" + suffix
		if strings.Contains(prefix+"mysql://"+user+":@host"+suffix, pw) {
			return // the same text occurs elsewhere
		}
		if got := Redact(s); strings.Contains(got, pw) {
			t.Fatalf("Redact(%q) = %q shows the password %q", s, got, pw)
		}
	})
}
