package dburl

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// mysqlOptions is what the query parameters of a MySQL URL mean to go-sql-driver/mysql.
type mysqlOptions struct {
	socket string            // unix socket path; "" means TCP
	params map[string]string // driver DSN parameters, decoded
}

// parseMySQL checks the parts of a mysql:// or mariadb:// URL and translates its query
// parameters for go-sql-driver/mysql.
func parseMySQL(p urlParts, mariadb bool) (*URL, error) {
	u, err := serverURL(p, dialectMySQL, driverMySQL)
	if err != nil {
		return nil, err
	}
	u.MariaDB = mariadb
	u.x.params = parseQuery(p.query)
	u.x.mysql.params = map[string]string{}
	for _, prm := range u.x.params {
		if err := u.applyMySQLParam(prm); err != nil {
			return nil, fmt.Errorf("database URL %q: %w", p.safe, err)
		}
	}
	if strings.Contains(u.User, ":") {
		return nil, fmt.Errorf("database URL %q: a MySQL user name cannot contain ':'", p.safe)
	}
	return u, nil
}

// applyMySQLParam records what one query parameter means for the driver.
func (u *URL) applyMySQLParam(p param) error {
	m := &u.x.mysql
	switch key, v := p.key, p.value; key {
	case "unix_socket":
		if v == "" || strings.Contains(v, "@") {
			return fmt.Errorf("unix_socket=%q: want the path of a socket, without '@'", v)
		}
		m.socket = v
	case "connect_timeout":
		return m.setTimeout("timeout", p)
	case "read_timeout":
		return m.setTimeout("readTimeout", p)
	case "write_timeout":
		return m.setTimeout("writeTimeout", p)
	case "max_allowed_packet":
		m.params["maxAllowedPacket"] = v
	case "ssl_mode":
		tls, err := sslModeTLS(v)
		if err != nil {
			return err
		}
		m.params["tls"] = tls
	case "sql_mode":
		if strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_,") != "" {
			return fmt.Errorf("sql_mode=%q: want mode names separated by commas", v)
		}
		m.params["sql_mode"] = "'" + v + "'" // sent as SET sql_mode='…'
	case "user":
		u.User = v
	case "password", "passwd":
		u.x.password = v
	case "init_command":
		return errors.New("init_command is not supported (use sql_mode=… or a go-sql-driver/mysql parameter)")
	default:
		switch {
		case isMySQLDriverParam(key):
			if err := checkMySQLDriverParam(key, v); err != nil {
				return err
			}
			m.params[key] = v
		case key == "ssl" || strings.HasPrefix(key, "ssl_"):
			return fmt.Errorf("parameter %q is not supported (use ssl_mode=…, or tls=true, tls=skip-verify or tls=preferred)", key)
		case isPythonMySQLParam(key):
			// Meaningful to PyMySQL or mysqlclient only.
		default:
			return fmt.Errorf("unknown MySQL parameter %q (give go-sql-driver/mysql parameters such as charset, collation, loc, tls or timeout)", key)
		}
	}
	return nil
}

// isMySQLDriverParam reports whether key is a go-sql-driver/mysql DSN parameter.
func isMySQLDriverParam(key string) bool {
	switch key {
	case "allowAllFiles", "allowCleartextPasswords", "allowFallbackToPlaintext", "allowNativePasswords",
		"allowOldPasswords", "charset", "checkConnLiveness", "clientFoundRows", "collation", "columnsWithAlias",
		"compress", "connectionAttributes", "interpolateParams", "loc", "maxAllowedPacket", "multiStatements",
		"parseTime", "readTimeout", "rejectReadOnly", "serverPubKey", "timeTruncate", "timeout", "tls", "writeTimeout":
		return true
	}
	return false
}

// checkMySQLDriverParam checks the value of a go-sql-driver/mysql parameter as the driver
// parses it, so that a bad value is bad input rather than a failed connection.
func checkMySQLDriverParam(key, v string) error {
	switch key {
	case "allowAllFiles", "allowCleartextPasswords", "allowFallbackToPlaintext", "allowNativePasswords",
		"allowOldPasswords", "checkConnLiveness", "clientFoundRows", "columnsWithAlias", "compress",
		"interpolateParams", "multiStatements", "parseTime", "rejectReadOnly":
		if _, ok := mysqlBool(v); !ok {
			return fmt.Errorf("%s=%q: want true or false", key, v)
		}
	case "timeout", "readTimeout", "writeTimeout", "timeTruncate":
		if _, err := time.ParseDuration(v); err != nil {
			return fmt.Errorf("%s=%q: want a duration such as 30s", key, v)
		}
	case "maxAllowedPacket":
		if _, err := strconv.Atoi(v); err != nil {
			return fmt.Errorf("%s=%q: want a number of bytes", key, v)
		}
	case "loc":
		if _, err := time.LoadLocation(v); err != nil {
			return fmt.Errorf("loc=%q: not a time zone (want UTC, Local or a name such as Europe/Paris)", v)
		}
	case "tls":
		// A named configuration needs mysql.RegisterTLSConfig, which only a program can call.
		if _, ok := mysqlBool(v); !ok && !strings.EqualFold(v, "skip-verify") && !strings.EqualFold(v, "preferred") {
			return fmt.Errorf("tls=%q: want true, false, skip-verify or preferred", v)
		}
	}
	return nil
}

// mysqlBool parses a boolean the way go-sql-driver/mysql does.
func mysqlBool(v string) (value, ok bool) {
	switch v {
	case "1", "true", "TRUE", "True":
		return true, true
	case "0", "false", "FALSE", "False":
		return false, true
	}
	return false, false
}

// isPythonMySQLParam reports whether key is a connection argument of PyMySQL or mysqlclient
// (or an SQLAlchemy dialect option) that has no go-sql-driver/mysql equivalent.
func isPythonMySQLParam(key string) bool {
	switch key {
	case "plugin", "read_default_file", "read_default_group", "autocommit", "use_unicode", "binary_prefix",
		"client_flag", "program_name", "local_infile", "defer_connect", "auth_plugin_map", "bind_address",
		"server_public_key", "cursorclass", "conv", "named_pipe", "is_server_json_compat":
		return true
	}
	return false
}

// sslModeTLS maps MySQL's ssl_mode to the driver's tls parameter.
func sslModeTLS(mode string) (string, error) {
	switch strings.ToUpper(mode) {
	case "DISABLED":
		return "false", nil
	case "PREFERRED":
		return "preferred", nil
	case "REQUIRED":
		return "skip-verify", nil
	case "VERIFY_CA", "VERIFY_IDENTITY":
		return "true", nil
	}
	return "", fmt.Errorf("ssl_mode=%q: want DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY", mode)
}

// setTimeout sets the driver's duration parameter name from a PyMySQL timeout in seconds.
func (m *mysqlOptions) setTimeout(name string, p param) error {
	d, err := seconds(p.value)
	if err != nil {
		return fmt.Errorf("%s=%q: %w", p.key, p.value, err)
	}
	m.params[name] = d.String()
	return nil
}

// seconds parses a PyMySQL timeout: a non-negative number of seconds.
func seconds(v string) (time.Duration, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsNaN(f) || f > math.MaxInt64/float64(time.Second) {
		return 0, errors.New("want a number of seconds")
	}
	return time.Duration(f * float64(time.Second)), nil
}

// mysqlDSN returns the go-sql-driver/mysql DSN "user:pass@tcp(host:port)/db?…".
func (u *URL) mysqlDSN() string {
	x := u.details()
	var b strings.Builder
	if u.User != "" || x.password != "" {
		b.WriteString(u.User)
		if x.password != "" {
			b.WriteByte(':')
			b.WriteString(x.password) // the driver takes the password verbatim, up to the last '@'
		}
		b.WriteByte('@')
	}
	if x.mysql.socket != "" {
		b.WriteString("unix(" + x.mysql.socket + ")")
	} else {
		host, port := u.Host, u.Port
		if host == "" {
			host = "127.0.0.1"
		}
		if port == "" {
			port = defaultPort(dialectMySQL)
		}
		b.WriteString("tcp(" + net.JoinHostPort(host, port) + ")")
	}
	b.WriteByte('/')
	b.WriteString(url.PathEscape(u.Database))
	// interpolateParams: queries with arguments in one round trip instead of three
	// (prepare, execute, close); the driver falls back to prepared statements itself for
	// the few character sets where client-side escaping would be unsafe. multiStatements:
	// consecutive DML statements of a version go to the server in one round trip.
	params := map[string]string{"parseTime": "true", "multiStatements": "true", "interpolateParams": "true"}
	maps.Copy(params, x.mysql.params)
	for i, k := range slices.Sorted(maps.Keys(params)) {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + url.QueryEscape(params[k]))
	}
	return b.String()
}
