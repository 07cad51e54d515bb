// Package dburl parses database URLs into what database/sql needs and keeps passwords out of
// messages.
//
// [Parse] accepts the SQLAlchemy URLs found in OpenStack configuration files and their native
// equivalents:
//
//	sqlite:///relative/path.db          relative to the process working directory
//	sqlite:////absolute/path.db         absolute path
//	sqlite://  sqlite:///:memory:       in-memory database
//	path/to/file.db                     a bare path ending in .db, .sqlite or .sqlite3
//	postgresql://user:pw@host:5432/db?sslmode=disable   (also postgres://)
//	mysql://user:pw@host:3306/db?charset=utf8           (also mariadb://)
//
// A driver suffix such as +psycopg2 or +pymysql is accepted and ignored, so a Glance
// "connection = …" line works as is. Schemes are matched without regard to case.
//
// # User information
//
// As in SQLAlchemy, the user name ends at the first ':' and the password at the first '@'
// that follows it, so a password may contain ':', '/' and '?' as written. A password may
// also contain '@' as written, because a host never contains '@': an '@' between the end of
// the password and the path (the next '/' or '?') belongs to the password. A password with
// an '@' followed by '/' or '?' must have them percent-encoded (%2F, %3F). Percent escapes
// are decoded in the user name, the password and a server's database name. SQLite paths
// are taken verbatim, up to the '?' of the query; a bare path is taken whole.
//
// # Query parameters
//
// SQLite URLs accept mode=ro, mode=rw and mode=rwc (the last is the default: a missing file
// is created). The Python driver's keywords timeout, check_same_thread, detect_types,
// isolation_level, cached_statements, factory and uri are ignored. Any other parameter is
// an error.
//
// PostgreSQL parameters are passed to pgx unchanged (libpq keywords such as sslmode and
// connect_timeout; other names become run-time parameters).
//
// MySQL and MariaDB parameters are translated for github.com/go-sql-driver/mysql:
// its own parameters (charset, collation, loc, tls, timeout, …) are passed through;
// PyMySQL's unix_socket, connect_timeout, read_timeout, write_timeout, max_allowed_packet,
// ssl_mode, sql_mode, user and password are mapped to their equivalents; parameters that
// only mean something to the Python drivers (plugin, read_default_file, autocommit, …) are
// dropped. TLS file options (ssl_ca, ssl_cert, ssl_key, …) and init_command cannot be
// expressed in a DSN and are rejected, as is any unknown parameter, rather than being sent
// to the server as session variables.
//
// # Passwords
//
// [URL.String] renders a URL with its password replaced by "xxxxx", and errors returned by
// [Parse] never contain a password. [Redact] does the same for arbitrary text such as driver
// error messages.
package dburl
