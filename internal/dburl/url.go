package dburl

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Dialect and driver names used in [URL].
const (
	dialectSQLite   = "sqlite"
	dialectPostgres = "postgresql"
	dialectMySQL    = "mysql"

	driverSQLite   = "sqlite"
	driverPostgres = "pgx"
	driverMySQL    = "mysql"
)

// memory is the SQLite database name of an in-memory database.
const memory = ":memory:"

// mask replaces every password this package renders.
const mask = "xxxxx"

// acceptedForms ends the errors about input that is not a usable database URL.
const acceptedForms = "use sqlite:///FILE, postgresql://…, mysql://… or mariadb://…"

// URL is a parsed database URL.
//
// The URLs [Parse] returns are never modified by this package, so their methods may be
// called concurrently. Printing a URL with fmt never shows its password (see [URL.Format]).
type URL struct {
	Dialect  string // "sqlite", "postgresql" or "mysql"
	MariaDB  bool   // the scheme was mariadb (dialect stays "mysql")
	Driver   string // database/sql driver name: "sqlite", "pgx" or "mysql"
	Database string // database name on a server; file path for SQLite (":memory:" for memory)

	// User, Host and Port are set for servers only. Port holds the dialect's default port
	// when the URL names a host without one.
	User, Host, Port string

	// x holds the password and the rest of the unexported state. Copies share it, and
	// printers that walk structs by reflection see an address rather than the password.
	x *details
}

// details is the unexported state of a [URL]. It is never modified after [Parse].
type details struct {
	scheme       string  // as written, e.g. "mysql+pymysql"; "" for a bare SQLite path
	password     string  // decoded
	params       []param // query parameters, in order
	explicitPort bool    // the URL gave the port
	sqliteMode   string  // SQLite mode parameter: "", "ro", "rw" or "rwc"
	mysql        mysqlOptions
}

// DSNOptions adjust the data source name [URL.DSN] builds.
type DSNOptions struct {
	// BusyTimeout is how long an SQLite connection waits for a lock held by another
	// connection before failing; zero or negative means not at all. Ignored for servers.
	BusyTimeout time.Duration
	// ReadOnly opens an SQLite database file read-only (mode=ro). Ignored for in-memory
	// databases and for servers.
	ReadOnly bool
	// ApplicationName is the application_name of PostgreSQL connections, so that
	// pg_stat_activity and a lock timeout's holder name the program. An application_name
	// in the URL wins. Ignored for other databases.
	ApplicationName string
}

// Parse parses a database URL or a bare SQLite file path (see the package documentation
// for the accepted forms). Surrounding white space is ignored. The error names the input
// with any password replaced by "xxxxx".
func Parse(raw string) (*URL, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, errors.New("empty database URL (" + acceptedForms + ")")
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !validScheme(scheme) {
		return parsePath(s)
	}
	p := splitURL(scheme, rest)
	base, _, _ := strings.Cut(scheme, "+")
	switch strings.ToLower(base) {
	case "sqlite":
		return parseSQLite(p)
	case "postgresql", "postgres":
		return parsePostgres(p)
	case "mysql":
		return parseMySQL(p, false)
	case "mariadb":
		return parseMySQL(p, true)
	}
	return nil, fmt.Errorf("unknown database URL scheme %q in %q (%s)", base, p.safe, acceptedForms)
}

// parsePath parses input without "scheme://": a bare SQLite file path or an error.
func parsePath(s string) (*URL, error) {
	if scheme, _, ok := strings.Cut(s, ":"); ok && validScheme(scheme) {
		base, _, _ := strings.Cut(strings.ToLower(scheme), "+")
		switch base {
		case "file":
			return nil, fmt.Errorf("database URL %q: SQLite file: URIs are not accepted (use sqlite:///FILE)", redactLoose(s))
		case "sqlite", "postgresql", "postgres", "mysql", "mariadb":
			return nil, fmt.Errorf("database URL %q lacks \"//\" after %q (%s)", redactLoose(s), scheme+":", acceptedForms)
		}
	}
	switch strings.ToLower(filepath.Ext(s)) {
	case ".db", ".sqlite", ".sqlite3":
		return &URL{Dialect: dialectSQLite, Driver: driverSQLite, Database: s, x: &details{}}, nil
	}
	return nil, fmt.Errorf("database URL %q is neither a URL nor an SQLite file path (%s, or a path ending in .db, .sqlite or .sqlite3)",
		redactLoose(s), acceptedForms)
}

// validScheme reports whether s is a URL scheme, driver suffix included: a letter followed
// by letters, digits and "+-._".
func validScheme(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !isDigit(c) && !strings.ContainsRune("+-._", rune(c)) {
			return false
		}
	}
	return true
}

// String returns the URL with any password replaced by "xxxxx" (safe for messages and
// logs). A bare SQLite path is returned as given.
func (u *URL) String() string {
	if u == nil {
		return "<nil>"
	}
	x := u.details()
	scheme := x.scheme
	if scheme == "" {
		if u.Dialect == dialectSQLite {
			return u.Database
		}
		scheme = u.Dialect
	}
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	if u.Dialect == dialectSQLite {
		b.WriteByte('/')
		b.WriteString(u.Database)
	} else {
		if u.User != "" || x.password != "" {
			b.WriteString(url.User(u.User).String())
			if x.password != "" {
				b.WriteString(":" + mask)
			}
			b.WriteByte('@')
		}
		port := u.Port
		if !x.explicitPort && port == defaultPort(u.Dialect) {
			port = ""
		}
		b.WriteString(joinHostPort(u.Host, port))
		b.WriteByte('/')
		b.WriteString(url.PathEscape(u.Database))
	}
	for i, p := range x.params {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		if isPasswordKey(p.key) {
			b.WriteString(url.QueryEscape(p.key) + "=" + mask)
		} else {
			b.WriteString(p.raw)
		}
	}
	return b.String()
}

// Format makes every fmt verb print [URL.String], whether it is given a URL or a *URL, so
// that printing a URL never shows its password.
func (u URL) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), u.String())
}

// DSN returns the data source name for sql.Open(u.Driver, …).
//
// For SQLite it is modernc.org/sqlite's form:
// "file:<path>?_pragma=busy_timeout(<ms>)&_txlock=immediate", plus "&mode=ro" when
// o.ReadOnly or the URL says mode=ro. For PostgreSQL it is a postgres:// URL pgx accepts,
// with the query parameters kept. For MySQL it is a go-sql-driver/mysql DSN
// "user:pass@tcp(host:port)/db?…" with parseTime=true, multiStatements=true and
// interpolateParams=true unless the URL sets them. The DSN contains the password: never print it.
func (u *URL) DSN(o DSNOptions) string {
	switch u.Dialect {
	case dialectSQLite:
		return u.sqliteDSN(o)
	case dialectPostgres:
		return u.postgresDSN(o)
	case dialectMySQL:
		return u.mysqlDSN()
	}
	return ""
}

// WithDatabase returns a copy of u that connects to another database on the same server,
// for instance to a maintenance database ("postgres" for PostgreSQL, "" for MySQL) in order
// to CREATE DATABASE. It fails for SQLite, which has no server.
func (u *URL) WithDatabase(name string) (*URL, error) {
	if u.Dialect == dialectSQLite {
		return nil, fmt.Errorf("%s: an SQLite database is a file, with no server holding other databases", u)
	}
	c := *u
	c.Database = name
	return &c, nil
}

// details returns the unexported state, empty for a URL not made by [Parse].
func (u *URL) details() *details {
	if u.x == nil {
		return &details{}
	}
	return u.x
}

// defaultPort returns the port a server of the dialect listens on by default.
func defaultPort(dialect string) string {
	switch dialect {
	case dialectPostgres:
		return "5432"
	case dialectMySQL:
		return "3306"
	}
	return ""
}

// joinHostPort is net.JoinHostPort, except that an empty port leaves the host alone
// (bracketed if it is an IPv6 address).
func joinHostPort(host, port string) string {
	if port != "" {
		return net.JoinHostPort(host, port)
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}
