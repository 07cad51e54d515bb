package dburl

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseSQLite checks the parts of an sqlite:// URL. The path after "sqlite:///" is the file
// path, relative unless it starts with another '/'; no path means an in-memory database.
func parseSQLite(p urlParts) (*URL, error) {
	if p.hasUser || p.hostport != "" {
		return nil, fmt.Errorf("SQLite URL %q names a host (use sqlite:///relative/path.db or sqlite:////absolute/path.db)", p.safe)
	}
	x := &details{scheme: p.scheme, params: parseQuery(p.query)}
	for _, prm := range x.params {
		switch prm.key {
		case "mode":
			switch prm.value {
			case "ro", "rw", "rwc":
				x.sqliteMode = prm.value
			default:
				return nil, fmt.Errorf("SQLite URL %q: mode=%q is not ro, rw or rwc", p.safe, prm.value)
			}
		case "timeout", "check_same_thread", "detect_types", "isolation_level", "cached_statements", "factory", "uri":
			// Python sqlite3 driver settings with no meaning here.
		default:
			return nil, fmt.Errorf("SQLite URL %q: unknown parameter %q (accepted: mode=ro|rw|rwc)", p.safe, prm.key)
		}
	}
	path := p.path
	switch {
	case path == "" && p.slash:
		// "sqlite:///" reads as a file whose name was left out: an in-memory database would
		// take the upgrade and keep nothing.
		return nil, fmt.Errorf("SQLite URL %q names no file (use sqlite:///relative/path.db or sqlite:////absolute/path.db; sqlite:// is an in-memory database)", p.safe)
	case path == "":
		path = memory
	}
	return &URL{Dialect: dialectSQLite, Driver: driverSQLite, Database: path, x: x}, nil
}

// sqliteDSN returns modernc.org/sqlite's URI form of the database.
func (u *URL) sqliteDSN(o DSNOptions) string {
	path := u.Database
	if path == "" {
		path = memory
	}
	var b strings.Builder
	b.WriteString("file:")
	if strings.HasPrefix(path, "//") {
		// "file://" starts an authority: make it empty so that the path keeps its slashes.
		b.WriteString("//")
	}
	b.WriteString(escapeSQLitePath(path))
	b.WriteString("?_pragma=busy_timeout(")
	b.WriteString(strconv.FormatInt(millis(o.BusyTimeout), 10))
	b.WriteString(")&_txlock=immediate")
	if path != memory {
		mode := u.details().sqliteMode
		if o.ReadOnly {
			mode = "ro"
		}
		if mode == "ro" || mode == "rw" {
			b.WriteString("&mode=" + mode)
		}
	}
	return b.String()
}

// escapeSQLitePath escapes the characters that are special in an SQLite URI filename.
func escapeSQLitePath(path string) string {
	if !strings.ContainsAny(path, "%?#") {
		return path
	}
	return strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
}

// millis returns d in whole milliseconds, rounded up; zero for zero or negative d.
func millis(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	ms := d.Milliseconds()
	if d%time.Millisecond != 0 {
		ms++
	}
	return ms
}
