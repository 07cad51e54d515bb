package dburl

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"
	_ "modernc.org/sqlite"
)

func mustParse(t *testing.T, raw string) *URL {
	t.Helper()
	u, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSQLiteDSN(t *testing.T) {
	tests := []struct {
		in   string
		o    DSNOptions
		want string
	}{
		{"sqlite:///relative.db", DSNOptions{BusyTimeout: 60 * time.Second},
			"file:relative.db?_pragma=busy_timeout(60000)&_txlock=immediate"},
		{"sqlite:////abs/path.db", DSNOptions{BusyTimeout: 1500 * time.Millisecond, ReadOnly: true},
			"file:/abs/path.db?_pragma=busy_timeout(1500)&_txlock=immediate&mode=ro"},
		{"x.sqlite", DSNOptions{BusyTimeout: time.Microsecond}, "file:x.sqlite?_pragma=busy_timeout(1)&_txlock=immediate"},
		{"x.db", DSNOptions{BusyTimeout: -time.Second}, "file:x.db?_pragma=busy_timeout(0)&_txlock=immediate"},
		{"sqlite://", DSNOptions{ReadOnly: true}, "file::memory:?_pragma=busy_timeout(0)&_txlock=immediate"},
		{"sqlite:///x.db?mode=ro", DSNOptions{}, "file:x.db?_pragma=busy_timeout(0)&_txlock=immediate&mode=ro"},
		{"sqlite:///x.db?mode=rw", DSNOptions{}, "file:x.db?_pragma=busy_timeout(0)&_txlock=immediate&mode=rw"},
		{"sqlite:///x.db?mode=rw", DSNOptions{ReadOnly: true}, "file:x.db?_pragma=busy_timeout(0)&_txlock=immediate&mode=ro"},
		{"sqlite:///x.db?mode=rwc", DSNOptions{}, "file:x.db?_pragma=busy_timeout(0)&_txlock=immediate"},
		{"a?b#c%d.db", DSNOptions{}, "file:a%3Fb%23c%25d.db?_pragma=busy_timeout(0)&_txlock=immediate"},
		{"sqlite://///srv/x.db", DSNOptions{}, "file:////srv/x.db?_pragma=busy_timeout(0)&_txlock=immediate"},
	}
	for _, tt := range tests {
		if got := mustParse(t, tt.in).DSN(tt.o); got != tt.want {
			t.Errorf("Parse(%q).DSN(%+v)\n got %s\nwant %s", tt.in, tt.o, got, tt.want)
		}
	}
}

// TestSQLiteDSNOpens checks the DSN against the real driver: the file it creates, the busy
// timeout, the transaction mode and read-only access.
func TestSQLiteDSNOpens(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "we?ird #50%.db")
	u := mustParse(t, path)

	db, err := sql.Open(u.Driver, u.DSN(DSNOptions{BusyTimeout: 2500 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at %q: %v", path, err)
	}
	var timeout int
	if err := db.QueryRow("PRAGMA busy_timeout").Scan(&timeout); err != nil {
		t.Fatal(err)
	}
	if timeout != 2500 {
		t.Errorf("busy_timeout = %d, want 2500", timeout)
	}

	ro, err := sql.Open(u.Driver, u.DSN(DSNOptions{ReadOnly: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var n int
	if err := ro.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatalf("reading through the read-only DSN: %v", err)
	}
	if _, err := ro.Exec("INSERT INTO t VALUES (1)"); err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Errorf("writing through the read-only DSN: err = %v, want a readonly database error", err)
	}
}

// TestSQLiteRelativePath checks that a relative path is relative to the working directory.
func TestSQLiteRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	u := mustParse(t, "sqlite:///sub.db")
	db, err := sql.Open(u.Driver, u.DSN(DSNOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "sub.db")); err != nil {
		t.Errorf("relative path not created in the working directory: %v", err)
	}
}

func TestPostgresDSN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgresql+psycopg2://user:pw@host:5432/db?sslmode=disable", "postgres://user:pw@host:5432/db?sslmode=disable"},
		{"postgres://h/db", "postgres://h:5432/db"},
		{"postgresql:///db?host=%2Fvar%2Frun%2Fpostgresql", "postgres:///db?host=%2Fvar%2Frun%2Fpostgresql"},
		{"postgres://u:p@ss:w%2Frd%3F@[::1]:5433/my%20db", "postgres://u:p%40ss%3Aw%2Frd%3F@[::1]:5433/my%20db"},
		{"postgres://me@srv@h/db", "postgres://me%40srv@h:5432/db"},
	}
	for _, tt := range tests {
		if got := mustParse(t, tt.in).DSN(DSNOptions{BusyTimeout: time.Second, ReadOnly: true}); got != tt.want {
			t.Errorf("Parse(%q).DSN()\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

// TestPostgresDSNParses checks that pgx reads back what the URL says.
func TestPostgresDSNParses(t *testing.T) {
	type pgView struct {
		Host, User, Password, Database string
		Port                           uint16
		TLS                            bool
		RuntimeParams                  map[string]string
	}
	tests := []struct {
		in   string
		want pgView
	}{
		{"postgresql+psycopg2://gl%40nce:p@ss:w%2Frd%3F#%zz@db.example.com:5433/glance db?sslmode=disable&application_name=ratchet+test",
			pgView{"db.example.com", "gl@nce", "p@ss:w/rd?#%zz", "glance db", 5433, false, map[string]string{"application_name": "ratchet test"}}},
		{"postgresql://me@/glance?host=/var/run/postgresql&sslmode=disable&options=-c%20search_path%3Dglance",
			pgView{"/var/run/postgresql", "me", "", "glance", 5432, false, map[string]string{"options": "-c search_path=glance"}}},
	}
	// Keep the environment's libpq defaults out of the comparison.
	for _, name := range []string{"PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGAPPNAME", "PGOPTIONS",
		"PGSSLMODE", "PGSERVICE", "PGCONNECT_TIMEOUT", "PGTARGETSESSIONATTRS"} {
		t.Setenv(name, "")
	}
	t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("PGSERVICEFILE", filepath.Join(t.TempDir(), "none"))
	for _, tt := range tests {
		cfg, err := pgconn.ParseConfig(mustParse(t, tt.in).DSN(DSNOptions{}))
		if err != nil {
			t.Errorf("Parse(%q): DSN does not parse: %v", tt.in, Redact(err.Error()))
			continue
		}
		got := pgView{cfg.Host, cfg.User, cfg.Password, cfg.Database, cfg.Port, cfg.TLSConfig != nil, cfg.RuntimeParams}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Parse(%q): pgconn.ParseConfig(DSN) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestMySQLDSN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mysql://u:pw@h/db", "u:pw@tcp(h:3306)/db?interpolateParams=true&multiStatements=true&parseTime=true"},
		{"mariadb+pymysql://root:pw@127.0.0.1:3306/glance?charset=utf8",
			"root:pw@tcp(127.0.0.1:3306)/glance?charset=utf8&interpolateParams=true&multiStatements=true&parseTime=true"},
		{"mysql+pymysql://glance@/glance?unix_socket=/run/mysqld/mysqld.sock&plugin=x&read_default_file=/etc/my.cnf",
			"glance@unix(/run/mysqld/mysqld.sock)/glance?interpolateParams=true&multiStatements=true&parseTime=true"},
		{"mysql://h/db", "tcp(h:3306)/db?interpolateParams=true&multiStatements=true&parseTime=true"},
		{"mysql:///db", "tcp(127.0.0.1:3306)/db?interpolateParams=true&multiStatements=true&parseTime=true"},
		{"mysql://u:p%40ss%2Fw@[::1]:3307/a%2Fb", "u:p@ss/w@tcp([::1]:3307)/a%2Fb?interpolateParams=true&multiStatements=true&parseTime=true"},
		{"mysql://h/db?parseTime=false&loc=Europe%2FParis&connect_timeout=2.5&read_timeout=30&write_timeout=0",
			"tcp(h:3306)/db?interpolateParams=true&loc=Europe%2FParis&multiStatements=true&parseTime=false&readTimeout=30s&timeout=2.5s&writeTimeout=0s"},
		{"mysql://h/db?ssl_mode=required&sql_mode=TRADITIONAL,ANSI_QUOTES&max_allowed_packet=1024",
			"tcp(h:3306)/db?interpolateParams=true&maxAllowedPacket=1024&multiStatements=true&parseTime=true&sql_mode=%27TRADITIONAL%2CANSI_QUOTES%27&tls=skip-verify"},
		{"mysql://h/db?autocommit=true&use_unicode=1&binary_prefix=true&client_flag=2&program_name=glance",
			"tcp(h:3306)/db?interpolateParams=true&multiStatements=true&parseTime=true"},
	}
	for _, tt := range tests {
		if got := mustParse(t, tt.in).DSN(DSNOptions{BusyTimeout: time.Second, ReadOnly: true}); got != tt.want {
			t.Errorf("Parse(%q).DSN()\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

// TestMySQLDSNParses checks that go-sql-driver/mysql reads back what the URL says.
func TestMySQLDSNParses(t *testing.T) {
	tests := []struct {
		in   string
		want mysqlView
	}{
		{"mariadb+pymysql://gl%40nce:p@ss:w%2Frd%3F%zz@db.example.com:3307/glance?charset=utf8&ssl_mode=VERIFY_IDENTITY",
			mysqlView{User: "gl@nce", Passwd: "p@ss:w/rd?%zz", Net: "tcp", Addr: "db.example.com:3307", DBName: "glance",
				ParseTime: true, MultiStatements: true, TLS: true}},
		{"mysql://root@/my db?unix_socket=/run/my sql.sock&sql_mode=TRADITIONAL&connect_timeout=3",
			mysqlView{User: "root", Net: "unix", Addr: "/run/my sql.sock", DBName: "my db", ParseTime: true, MultiStatements: true,
				Timeout: 3 * time.Second, Params: map[string]string{"sql_mode": "'TRADITIONAL'"}}},
	}
	for _, tt := range tests {
		cfg, err := mysql.ParseDSN(mustParse(t, tt.in).DSN(DSNOptions{}))
		if err != nil {
			t.Errorf("Parse(%q): DSN does not parse: %v", tt.in, Redact(err.Error()))
			continue
		}
		got := mysqlView{cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName, cfg.ParseTime, cfg.MultiStatements,
			cfg.TLS != nil, cfg.Timeout, cfg.Params}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Parse(%q): mysql.ParseDSN(DSN) (-want +got):\n%s", tt.in, diff)
		}
		if charset := strings.Contains(tt.in, "charset=utf8"); charset != strings.Contains(cfg.FormatDSN(), "charset=utf8") {
			t.Errorf("Parse(%q): charset=utf8 in the URL is %v, in the driver's config %v", tt.in, charset, !charset)
		}
	}
}

type mysqlView struct {
	User, Passwd, Net, Addr, DBName string
	ParseTime, MultiStatements, TLS bool
	Timeout                         time.Duration
	Params                          map[string]string
}

func TestDSNOfUnknownDialect(t *testing.T) {
	if got := (&URL{Dialect: "oracle"}).DSN(DSNOptions{}); got != "" {
		t.Errorf("DSN of an unknown dialect = %q, want empty", got)
	}
}

// TestPostgresApplicationName checks that connections are named after the program unless
// the URL names them, and that the name reaches pgx.
func TestPostgresApplicationName(t *testing.T) {
	t.Setenv("PGAPPNAME", "")
	tests := []struct{ in, want string }{
		{"postgres://h/db", "glance-manage"},
		{"postgres://h/db?sslmode=disable", "glance-manage"},
		{"postgres://h/db?application_name=api%20worker", "api worker"},
	}
	for _, tt := range tests {
		u := mustParse(t, tt.in)
		cfg, err := pgconn.ParseConfig(u.DSN(DSNOptions{ApplicationName: "glance-manage"}))
		if err != nil {
			t.Fatalf("Parse(%q): DSN does not parse: %v", tt.in, err)
		}
		if got := cfg.RuntimeParams["application_name"]; got != tt.want {
			t.Errorf("Parse(%q): application_name %q, want %q", tt.in, got, tt.want)
		}
		// The URL itself is not changed by building a DSN.
		if strings.Contains(u.String(), "glance-manage") {
			t.Errorf("Parse(%q).String() = %q: the DSN option leaked into the URL", tt.in, u.String())
		}
	}
	if got := mustParse(t, "mysql://u@h/db").DSN(DSNOptions{ApplicationName: "x"}); strings.Contains(got, "application_name") {
		t.Errorf("MySQL DSN %q: application_name is PostgreSQL's", got)
	}
}
