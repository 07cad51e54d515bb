package dburl

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// parsePostgres checks the parts of a postgresql:// or postgres:// URL.
func parsePostgres(p urlParts) (*URL, error) {
	u, err := serverURL(p, dialectPostgres, driverPostgres)
	if err != nil {
		return nil, err
	}
	u.x.params = parseQuery(p.query)
	for _, prm := range u.x.params {
		if err := checkPostgresParam(prm); err != nil {
			return nil, fmt.Errorf("database URL %q: %w", p.safe, err)
		}
	}
	return u, nil
}

// postgresChoices lists the values pgx accepts for the parameters that take one of a few
// words, so that a typo is bad input rather than a failed connection.
var postgresChoices = map[string][]string{
	"sslmode":              {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"},
	"target_session_attrs": {"any", "read-write", "read-only", "primary", "standby", "prefer-standby"},
	"sslnegotiation":       {"postgres", "direct"},
	"channel_binding":      {"disable", "prefer", "require"},
}

// checkPostgresParam checks the value of a connection parameter pgx would refuse when
// connecting.
func checkPostgresParam(p param) error {
	if choices, ok := postgresChoices[p.key]; ok {
		if !slices.Contains(choices, p.value) {
			return fmt.Errorf("%s=%q: want %s", p.key, p.value, strings.Join(choices, ", "))
		}
		return nil
	}
	if p.key == "connect_timeout" {
		if n, err := strconv.ParseInt(p.value, 10, 64); err != nil || n < 0 {
			return fmt.Errorf("connect_timeout=%q: want a whole number of seconds", p.value)
		}
	}
	return nil
}

// serverURL fills the fields that PostgreSQL and MySQL URLs share.
func serverURL(p urlParts, dialect, driver string) (*URL, error) {
	host, port, err := splitHostPort(p.hostport)
	if err != nil {
		return nil, fmt.Errorf("database URL %q: %w", p.safe, err)
	}
	u := &URL{
		Dialect:  dialect,
		Driver:   driver,
		Database: unescape(p.path, false),
		User:     p.user,
		Host:     host,
		Port:     port,
		x:        &details{scheme: p.scheme, password: p.password, explicitPort: port != ""},
	}
	if u.Database == "" {
		return nil, fmt.Errorf("database URL %q names no database (add /DBNAME after the host)", p.safe)
	}
	if port == "" && host != "" {
		u.Port = defaultPort(dialect)
	}
	return u, nil
}

// postgresDSN returns a postgres:// URL for pgx.
func (u *URL) postgresDSN(o DSNOptions) string {
	x := u.details()
	params := x.params
	if o.ApplicationName != "" && !slices.ContainsFunc(params, func(p param) bool { return p.key == "application_name" }) {
		params = append(slices.Clip(params), param{key: "application_name", value: o.ApplicationName})
	}
	pu := url.URL{
		Scheme:   "postgres",
		Host:     joinHostPort(u.Host, u.Port),
		Path:     "/" + u.Database,
		RawQuery: encodeQuery(params),
	}
	switch {
	case x.password != "":
		pu.User = url.UserPassword(u.User, x.password)
	case u.User != "":
		pu.User = url.User(u.User)
	}
	return pu.String()
}
