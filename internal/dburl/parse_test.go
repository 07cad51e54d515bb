package dburl

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// view is what a test compares of a parsed URL, password included.
type view struct {
	Dialect, Driver, Database string
	MariaDB                   bool
	User, Password            string
	Host, Port                string
}

func viewOf(u *URL) view {
	return view{
		Dialect: u.Dialect, Driver: u.Driver, Database: u.Database, MariaDB: u.MariaDB,
		User: u.User, Password: u.details().password, Host: u.Host, Port: u.Port,
	}
}

func sqliteView(path string) view {
	return view{Dialect: "sqlite", Driver: "sqlite", Database: path}
}

func TestParseSQLite(t *testing.T) {
	tests := []struct {
		in     string
		want   view
		String string
	}{
		{"sqlite:///relative.db", sqliteView("relative.db"), "sqlite:///relative.db"},
		{"sqlite:///dir/relative.db", sqliteView("dir/relative.db"), "sqlite:///dir/relative.db"},
		{"sqlite:////abs/path.db", sqliteView("/abs/path.db"), "sqlite:////abs/path.db"},
		{"sqlite://", sqliteView(":memory:"), "sqlite:///:memory:"},
		{"sqlite:///:memory:", sqliteView(":memory:"), "sqlite:///:memory:"},
		{"sqlite+pysqlite:///x.db", sqliteView("x.db"), "sqlite+pysqlite:///x.db"},
		{"SQLite:///x.db", sqliteView("x.db"), "SQLite:///x.db"},
		{"  sqlite:///x.db\n", sqliteView("x.db"), "sqlite:///x.db"},
		{"sqlite:////srv/with@at/x.db", sqliteView("/srv/with@at/x.db"), "sqlite:////srv/with@at/x.db"},
		{"sqlite:///x%20y.db", sqliteView("x%20y.db"), "sqlite:///x%20y.db"}, // verbatim, as SQLAlchemy
		{"sqlite:///x.db?mode=ro", sqliteView("x.db"), "sqlite:///x.db?mode=ro"},
		{"sqlite:///x.db?check_same_thread=false&timeout=20", sqliteView("x.db"), "sqlite:///x.db?check_same_thread=false&timeout=20"},
		{"relative.db", sqliteView("relative.db"), "relative.db"},
		{"dir/sub/glance.sqlite", sqliteView("dir/sub/glance.sqlite"), "dir/sub/glance.sqlite"},
		{"/var/lib/glance/glance.sqlite3", sqliteView("/var/lib/glance/glance.sqlite3"), "/var/lib/glance/glance.sqlite3"},
		{"./UPPER.DB", sqliteView("./UPPER.DB"), "./UPPER.DB"},
		{"/tmp/odd://name.db", sqliteView("/tmp/odd://name.db"), "/tmp/odd://name.db"},
	}
	for _, tt := range tests {
		u, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, viewOf(u)); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
		}
		if got := u.String(); got != tt.String {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.String)
		}
	}
}

func TestParsePostgres(t *testing.T) {
	pg := func(user, password, host, port, db string) view {
		return view{Dialect: "postgresql", Driver: "pgx", User: user, Password: password, Host: host, Port: port, Database: db}
	}
	tests := []struct {
		in     string
		want   view
		String string
	}{
		{"postgresql://u:pw@h:5432/db", pg("u", "pw", "h", "5432", "db"), "postgresql://u:xxxxx@h:5432/db"},
		{"postgres://u:pw@h:5433/db", pg("u", "pw", "h", "5433", "db"), "postgres://u:xxxxx@h:5433/db"},
		{"postgresql+psycopg2://user:pw@host:5432/db?sslmode=disable", pg("user", "pw", "host", "5432", "db"),
			"postgresql+psycopg2://user:xxxxx@host:5432/db?sslmode=disable"},
		{"POSTGRESQL+PSYCOPG2://u@h/db", pg("u", "", "h", "5432", "db"), "POSTGRESQL+PSYCOPG2://u@h/db"},
		{"postgres://h/db", pg("", "", "h", "5432", "db"), "postgres://h/db"},
		{"postgresql:///db?host=/var/run/postgresql", pg("", "", "", "", "db"), "postgresql:///db?host=/var/run/postgresql"},
		{"postgres://u:pw@[::1]:5433/db", pg("u", "pw", "::1", "5433", "db"), "postgres://u:xxxxx@[::1]:5433/db"},
		{"postgres://[fe80::1]/db", pg("", "", "fe80::1", "5432", "db"), "postgres://[fe80::1]/db"},
		// Passwords with '@', ':' and percent escapes; '/' and '?' as SQLAlchemy reads them.
		{"postgres://u:p@ss@h/db", pg("u", "p@ss", "h", "5432", "db"), "postgres://u:xxxxx@h/db"},
		{"postgres://u:p:a@s:s@h:1/db", pg("u", "p:a@s:s", "h", "1", "db"), "postgres://u:xxxxx@h:1/db"},
		{"postgres://u:p%40ss%3Aw@h/db", pg("u", "p@ss:w", "h", "5432", "db"), "postgres://u:xxxxx@h/db"},
		{"postgres://u:p+w%zz@h/db", pg("u", "p+w%zz", "h", "5432", "db"), "postgres://u:xxxxx@h/db"},
		{"postgres://u:pa/ss@h/db", pg("u", "pa/ss", "h", "5432", "db"), "postgres://u:xxxxx@h/db"},
		{"postgres://u:p?w/x@y@h/db", pg("u", "p?w/x@y", "h", "5432", "db"), "postgres://u:xxxxx@h/db"},
		{"postgres://u:@h/db", pg("u", "", "h", "5432", "db"), "postgres://u@h/db"},
		// User names with '@' (Azure style), escaped or not.
		{"postgres://me%40srv:pw@h/db", pg("me@srv", "pw", "h", "5432", "db"), "postgres://me%40srv:xxxxx@h/db"},
		{"postgres://me@srv@h/db", pg("me@srv", "", "h", "5432", "db"), "postgres://me%40srv@h/db"},
		{"postgres://h/my%20db", pg("", "", "h", "5432", "my db"), "postgres://h/my%20db"},
		{"postgres://u:pw@h/db?password=other&application_name=ratchet", pg("u", "pw", "h", "5432", "db"),
			"postgres://u:xxxxx@h/db?password=xxxxx&application_name=ratchet"},
	}
	for _, tt := range tests {
		u, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, viewOf(u)); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
		}
		if got := u.String(); got != tt.String {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.String)
		}
	}
}

func TestParseMySQL(t *testing.T) {
	my := func(mariadb bool, user, password, host, port, db string) view {
		return view{Dialect: "mysql", Driver: "mysql", MariaDB: mariadb, User: user, Password: password, Host: host, Port: port, Database: db}
	}
	tests := []struct {
		in     string
		want   view
		String string
	}{
		{"mysql://u:pw@h/db", my(false, "u", "pw", "h", "3306", "db"), "mysql://u:xxxxx@h/db"},
		{"mysql+pymysql://glance:pw@db.example.com:3307/glance", my(false, "glance", "pw", "db.example.com", "3307", "glance"),
			"mysql+pymysql://glance:xxxxx@db.example.com:3307/glance"},
		{"mariadb://root@localhost/test", my(true, "root", "", "localhost", "3306", "test"), "mariadb://root@localhost/test"},
		{"mariadb+pymysql://root:pw@127.0.0.1:3306/glance?charset=utf8", my(true, "root", "pw", "127.0.0.1", "3306", "glance"),
			"mariadb+pymysql://root:xxxxx@127.0.0.1:3306/glance?charset=utf8"},
		{"mysql://u:p%40ss%2Fw:rd@h/db", my(false, "u", "p@ss/w:rd", "h", "3306", "db"), "mysql://u:xxxxx@h/db"},
		{"mysql://u:p@ss:w@rd@h/db", my(false, "u", "p@ss:w@rd", "h", "3306", "db"), "mysql://u:xxxxx@h/db"},
		{"mysql+pymysql://u@/db?unix_socket=/run/mysqld/mysqld.sock", my(false, "u", "", "", "", "db"),
			"mysql+pymysql://u@/db?unix_socket=/run/mysqld/mysqld.sock"},
		{"mysql://h/db?user=u&password=pw", my(false, "u", "pw", "h", "3306", "db"), "mysql://u:xxxxx@h/db?user=u&password=xxxxx"},
		{"mysql://u:old@h/db?passwd=pw", my(false, "u", "pw", "h", "3306", "db"), "mysql://u:xxxxx@h/db?passwd=xxxxx"},
	}
	for _, tt := range tests {
		u, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, viewOf(u)); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
		}
		if got := u.String(); got != tt.String {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.String)
		}
	}
}

// secret is the password of every input in TestParseErrors: no error may contain it.
const secret = "S3cretPw"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // the whole message, or a part of it when partial
		full bool
	}{
		{"oracle://scott:" + secret + "@h/db",
			`unknown database URL scheme "oracle" in "oracle://scott:xxxxx@h/db" (use sqlite:///FILE, postgresql://…, mysql://… or mariadb://…)`, true},
		{"oracle+cx_oracle://scott:" + secret + "@h/db", `unknown database URL scheme "oracle" in "oracle+cx_oracle://scott:xxxxx@h/db"`, false},
		{"", "empty database URL (use sqlite:///FILE, postgresql://…, mysql://… or mariadb://…)", true},
		{"   ", "empty database URL", false},
		{"glance.conf",
			`database URL "glance.conf" is neither a URL nor an SQLite file path (use sqlite:///FILE, postgresql://…, mysql://… or mariadb://…, or a path ending in .db, .sqlite or .sqlite3)`, true},
		{"scott:" + secret + "@localhost/glance", `database URL "scott:xxxxx@localhost/glance" is neither a URL nor an SQLite file path`, false},
		{"mysql:u:" + secret + "@h/db", `database URL "mysql:xxxxx@h/db" lacks "//" after "mysql:"`, false},
		{"sqlite:x.db", `database URL "sqlite:x.db" lacks "//" after "sqlite:"`, false},
		{"file:x.db?mode=ro", `SQLite file: URIs are not accepted (use sqlite:///FILE)`, false},
		{"1mysql://u:" + secret + "@h/db", `database URL "1mysql://u:xxxxx@h/db" is neither a URL nor an SQLite file path`, false},
		// SQLite
		{"sqlite://x.db", `SQLite URL "sqlite://x.db" names a host (use sqlite:///relative/path.db or sqlite:////absolute/path.db)`, true},
		{"sqlite://u:" + secret + "@/x.db", `SQLite URL "sqlite://u:xxxxx@/x.db" names a host`, false},
		{"sqlite:///x.db?mode=wal", `SQLite URL "sqlite:///x.db?mode=wal": mode="wal" is not ro, rw or rwc`, true},
		{"sqlite:///x.db?cache=shared", `SQLite URL "sqlite:///x.db?cache=shared": unknown parameter "cache" (accepted: mode=ro|rw|rwc)`, true},
		{"sqlite:///", `SQLite URL "sqlite:///" names no file (use sqlite:///relative/path.db or sqlite:////absolute/path.db; sqlite:// is an in-memory database)`, true},
		{"sqlite:///?mode=rw", `SQLite URL "sqlite:///?mode=rw" names no file`, false},
		// Driver parameters pgx and go-sql-driver/mysql would refuse when connecting.
		{"postgresql://u:" + secret + "@h/db?sslmode=bogus",
			`database URL "postgresql://u:xxxxx@h/db?sslmode=bogus": sslmode="bogus": want disable, allow, prefer, require, verify-ca, verify-full`, true},
		{"postgres://h/db?connect_timeout=abc", `connect_timeout="abc": want a whole number of seconds`, false},
		{"postgres://h/db?connect_timeout=-1", `connect_timeout="-1": want a whole number of seconds`, false},
		{"postgres://h/db?target_session_attrs=rw", `target_session_attrs="rw": want any, read-write`, false},
		{"postgres://h/db?channel_binding=always", `channel_binding="always"`, false},
		{"postgres://h/db?sslnegotiation=tls", `sslnegotiation="tls"`, false},
		{"mysql://u:" + secret + "@h/db?timeout=abc", `database URL "mysql://u:xxxxx@h/db?timeout=abc": timeout="abc": want a duration such as 30s`, true},
		{"mysql://h/db?readTimeout=5", `readTimeout="5": want a duration`, false},
		{"mysql://h/db?tls=bogus", `tls="bogus": want true, false, skip-verify or preferred`, false},
		{"mysql://h/db?loc=Nowhere%2FZone", `loc="Nowhere/Zone": not a time zone`, false},
		{"mariadb://h/db?parseTime=yes", `parseTime="yes": want true or false`, false},
		{"mysql://h/db?maxAllowedPacket=big", `maxAllowedPacket="big": want a number of bytes`, false},
		// Servers
		{"postgresql://u:" + secret + "@h", `database URL "postgresql://u:xxxxx@h" names no database (add /DBNAME after the host)`, true},
		{"postgresql://u:" + secret + "@h/", `database URL "postgresql://u:xxxxx@h/" names no database`, false},
		{"postgres://u:" + secret + "@h/?password=" + secret, `database URL "postgres://u:xxxxx@h/?password=xxxxx" names no database`, false},
		{"mysql+pymysql://u:" + secret + "@h:3306", `database URL "mysql+pymysql://u:xxxxx@h:3306" names no database`, false},
		{"mariadb://h", `names no database`, false},
		{"postgres://u:" + secret + "@h:port/db", `database URL "postgres://u:xxxxx@h:port/db": invalid port "port" (want a number from 1 to 65535)`, true},
		{"postgres://h:70000/db", `invalid port "70000"`, false},
		{"postgres://h:0/db", `invalid port "0"`, false},
		{"postgres://h:1:2/db", `invalid port "1:2"`, false},
		{"postgres://[::1/db", `missing ']' after IPv6 address "[::1"`, false},
		{"postgres://[::1]x/db", `unexpected "x" after IPv6 address [::1]`, false},
		// MySQL parameters
		{"mysql://u:" + secret + "@h/db?ssl_ca=/etc/ca.pem",
			`database URL "mysql://u:xxxxx@h/db?ssl_ca=/etc/ca.pem": parameter "ssl_ca" is not supported (use ssl_mode=…, or tls=true, tls=skip-verify or tls=preferred)`, true},
		{"mysql://h/db?ssl_mode=SOMETIMES", `ssl_mode="SOMETIMES": want DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY`, false},
		{"mysql://h/db?frobnicate=1", `unknown MySQL parameter "frobnicate" (give go-sql-driver/mysql parameters such as charset, collation, loc, tls or timeout)`, false},
		{"mysql://h/db?parsetime=true", `unknown MySQL parameter "parsetime"`, false},
		{"mysql://h/db?init_command=SET+x%3D1", `init_command is not supported`, false},
		{"mysql://h/db?connect_timeout=soon", `connect_timeout="soon": want a number of seconds`, false},
		{"mysql://h/db?read_timeout=-1", `read_timeout="-1": want a number of seconds`, false},
		{"mysql://h/db?sql_mode=TRADITIONAL';DROP", `sql_mode="TRADITIONAL';DROP": want mode names separated by commas`, false},
		{"mysql://h/db?unix_socket=", `unix_socket="": want the path of a socket`, false},
		{"mysql://a%3Ab:" + secret + "@h/db", `database URL "mysql://a%3Ab:xxxxx@h/db": a MySQL user name cannot contain ':'`, true},
		{"mysql://h/db?password=" + secret + "&bogus=1", `database URL "mysql://h/db?password=xxxxx&bogus=1": unknown MySQL parameter "bogus"`, false},
	}
	for _, tt := range tests {
		u, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %v, want an error", tt.in, u)
			continue
		}
		msg := err.Error()
		if tt.full && msg != tt.want || !tt.full && !strings.Contains(msg, tt.want) {
			t.Errorf("Parse(%q) error:\n got %s\nwant %s", tt.in, msg, tt.want)
		}
		if strings.Contains(msg, secret) {
			t.Errorf("Parse(%q) error shows the password: %s", tt.in, msg)
		}
	}
}

func TestStringHidesPasswordFromFmt(t *testing.T) {
	u, err := Parse("postgresql://admin:" + secret + "@h/db?password=" + secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%t", "%10.3s"} {
		for _, arg := range []any{u, *u} {
			if got := fmt.Sprintf(format, arg); strings.Contains(got, secret) {
				t.Errorf("Sprintf(%q, %T) shows the password: %s", format, arg, got)
			}
		}
	}
	if got, want := u.String(), "postgresql://admin:xxxxx@h/db?password=xxxxx"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestStringOfHandMadeURL(t *testing.T) {
	tests := []struct {
		u    *URL
		want string
	}{
		{nil, "<nil>"},
		{&URL{Dialect: "postgresql", Host: "h", Port: "5432", Database: "db"}, "postgresql://h/db"},
		{&URL{Dialect: "mysql", User: "u", Host: "h", Port: "3307", Database: "a/b"}, "mysql://u@h:3307/a%2Fb"},
		{&URL{Dialect: "sqlite", Database: "x.db"}, "x.db"},
	}
	for _, tt := range tests {
		if got := tt.u.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.u, got, tt.want)
		}
	}
}

func TestWithDatabase(t *testing.T) {
	u, err := Parse("postgresql+psycopg2://u:pw@h:5433/glance?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	m, err := u.WithDatabase("postgres")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.DSN(DSNOptions{}), "postgres://u:pw@h:5433/postgres?sslmode=disable"; got != want {
		t.Errorf("DSN = %q, want %q", got, want)
	}
	if got, want := m.String(), "postgresql+psycopg2://u:xxxxx@h:5433/postgres?sslmode=disable"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if u.Database != "glance" {
		t.Errorf("WithDatabase changed the original: Database = %q", u.Database)
	}

	my, err := Parse("mariadb://root:pw@h/glance?charset=utf8")
	if err != nil {
		t.Fatal(err)
	}
	m, err = my.WithDatabase("")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.DSN(DSNOptions{}), "root:pw@tcp(h:3306)/?charset=utf8&interpolateParams=true&multiStatements=true&parseTime=true"; got != want {
		t.Errorf("DSN = %q, want %q", got, want)
	}
	if !m.MariaDB || m.Dialect != "mysql" {
		t.Errorf("WithDatabase lost the dialect: %+v", m)
	}

	lite, err := Parse("sqlite:///x.db")
	if err != nil {
		t.Fatal(err)
	}
	if m, err := lite.WithDatabase("other.db"); err == nil {
		t.Errorf("WithDatabase on SQLite = %v, want an error", m)
	} else if want := "sqlite:///x.db: an SQLite database is a file"; !strings.Contains(err.Error(), want) {
		t.Errorf("WithDatabase on SQLite: error %q, want it to contain %q", err, want)
	}
}
