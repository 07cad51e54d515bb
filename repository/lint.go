package repository

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/ratchetdb/ratchet/sqlsplit"
)

// Severities of a [Finding].
const (
	// SeverityError marks a problem that makes an upgrade fail.
	SeverityError = "error"
	// SeverityWarning marks something that is probably a mistake.
	SeverityWarning = "warning"
	// SeverityInfo marks something worth knowing that needs no action.
	SeverityInfo = "info"
)

// Finding is one result of [Repository.Lint].
type Finding struct {
	// Path is the file at fault, relative to the repository root; "versions"
	// for findings about numbering, "go:<name>" for a Go migration.
	Path string
	// Severity is [SeverityError], [SeverityWarning] or [SeverityInfo].
	Severity string
	// Message says what is wrong and, where it helps, what to do.
	Message string
}

// String returns "<path>: <severity>: <message>".
func (f Finding) String() string {
	return f.Path + ": " + f.Severity + ": " + f.Message
}

// Lint returns findings about a loaded repository: ignored entries under
// versions/, gaps in numbering (unless use_timestamp_numbering is set),
// versions whose upgrade resolves to a Python script for some or all
// dialects, versions without an upgrade script for some dialects, Go
// migrations hidden by SQL scripts, unknown operations and databases, SQL
// scripts without statements, and downgrade scripts (informational: they
// are never run). Findings about ignored entries come first, then those of
// each version in ascending order. It takes registered Go migrations into
// account, so register them first.
func (r *Repository) Lint() []Finding {
	out := r.loadAll()
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, ig := range r.ignored {
		// Init writes it, and sqlalchemy-migrate needs it: nothing to report.
		if ig.Path == versionsDir+"/__init__.py" {
			continue
		}
		out = append(out, ignoredFinding(ig))
	}
	prev := 0
	for _, n := range r.sorted {
		if !r.timestamps && n > prev+1 {
			out = append(out, gapFinding(prev, n))
		}
		prev = n
		out = append(out, lintVersion(n, r.versions[n])...)
	}
	for _, d := range dialects() {
		for _, w := range r.rollingWindows(d) {
			for _, f := range r.lintWindowLocked(w, d) {
				if !slices.Contains(out, f) {
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// loadAll reads every SQL script's content, which lint inspects, and reports the files that
// cannot be read.
func (r *Repository) loadAll() []Finding {
	r.mu.RLock()
	var scripts []*Script
	for _, n := range r.sorted {
		scripts = append(scripts, r.versions[n].sql...)
	}
	r.mu.RUnlock()
	var out []Finding
	for _, s := range scripts {
		text, err := r.content(s)
		if err != nil {
			out = append(out, Finding{s.Path, SeverityError, err.Error()})
			continue
		}
		// A default script also runs on PostgreSQL, whose rules find psql commands.
		d := splitDialect(s.DBMS)
		if s.DBMS == DefaultDBMS {
			d = sqlsplit.PostgreSQL
		}
		if se := sqlsplit.NotSQL(text, d); se != nil {
			out = append(out, Finding{s.Path, SeverityError, fmt.Sprintf("line %d: %s", se.Line, se.Msg)})
		}
	}
	return out
}

// ignoredFinding reports an ignored entry: a warning if its name starts with
// a digit, so that it looks like a script, otherwise informational.
func ignoredFinding(ig Ignored) Finding {
	sev := SeverityInfo
	base := path.Base(ig.Path)
	if ext := path.Ext(base); leadingDigits(base) > 0 && ext != ".pyc" && ext != ".pyo" {
		sev = SeverityWarning
	}
	return Finding{Path: ig.Path, Severity: sev, Message: "ignored: " + ig.Reason}
}

// gapFinding reports the missing versions between prev and next, exclusive.
func gapFinding(prev, next int) Finding {
	lo, hi := prev+1, next-1
	if prev == 0 {
		return Finding{Path: versionsDir, Severity: SeverityInfo, Message: fmt.Sprintf(
			"the first version is %d; a new database must be stamped at %d first (db version_control %d)", next, hi, hi)}
	}
	msg := fmt.Sprintf("version %d is missing; upgrading a database across it fails", lo)
	if lo != hi {
		msg = fmt.Sprintf("versions %d to %d are missing; upgrading a database across them fails", lo, hi)
	}
	return Finding{Path: versionsDir, Severity: SeverityWarning, Message: msg}
}

// lintVersion returns the findings about version n.
func lintVersion(n int, v *version) []Finding {
	var out []Finding
	rolling := v.rolling()
	for _, s := range v.sql {
		switch {
		case s.Operation == OpDowngrade:
			out = append(out, Finding{s.Path, SeverityInfo, "downgrade scripts are never run; to go back, restore a backup"})
		case !knownOperation(s.Operation):
			out = append(out, Finding{s.Path, SeverityWarning, fmt.Sprintf(
				"operation %q is not upgrade, expand, migrate, contract or downgrade; the script is never run", s.Operation)})
		case s.IsTemplate():
			out = append(out, Finding{s.Path, SeverityWarning, "still the template repo new wrote: db sync refuses it until its SQL is written"})
		case !hasStatements(s.SQL):
			out = append(out, Finding{s.Path, SeverityWarning, "contains no SQL statements"})
		}

		if !knownDBMS(s.DBMS) {
			out = append(out, Finding{s.Path, SeverityWarning, unknownDBMSMessage(s.DBMS)})
		}
	}

	var python, missing, viaGo []string
	for _, d := range dialects() {
		_, s := v.script(n, d, OpUpgrade)
		switch {
		case s == nil:
			missing = append(missing, d)
		case s.Kind == Python:
			python = append(python, d)
		case s.Kind == Go:
			viaGo = append(viaGo, d)
		}
	}
	all := len(dialects())
	if p := v.python; p != nil {
		switch len(python) {
		case all:
			out = append(out, Finding{p.Path, SeverityError, fmt.Sprintf(
				"the only upgrade script of version %d is Python; ratchet runs SQL scripts and registered Go migrations: "+
					"write %03d_%s_default_upgrade.sql or register a Go migration for version %d",
				n, n, pythonDescription(p.Path), n)})
		case 0:
			out = append(out, Finding{p.Path, SeverityInfo, fmt.Sprintf(
				"never run: every dialect has an SQL upgrade script or a Go migration for version %d", n)})
		default:
			out = append(out, Finding{p.Path, SeverityWarning, fmt.Sprintf(
				"on %s, version %d resolves to this Python script, which ratchet cannot run; "+
					"add a default SQL upgrade script or register a Go migration", strings.Join(python, ", "), n)})
		}
	}
	if len(missing) > 0 && !rolling && len(v.files) > 0 {
		f := Finding{Path: v.files[0].Path, Severity: SeverityError,
			Message: fmt.Sprintf("version %d has no upgrade script; upgrading a database across it fails", n)}
		if len(missing) < all {
			f.Severity = SeverityWarning
			f.Message = fmt.Sprintf("version %d has no upgrade script for %s; upgrading those databases across it fails",
				n, strings.Join(missing, ", "))
		}
		out = append(out, f)
	}
	if rolling {
		out = append(out, lintRolling(n, v)...)
	}
	if m := v.goMigs[OpUpgrade]; m != nil && len(viaGo) == 0 && !rolling {
		out = append(out, Finding{goPathPrefix + m.Name, SeverityWarning, fmt.Sprintf(
			"never run: SQL upgrade scripts of version %d take precedence for every dialect", n)})
	}
	return out
}

// pythonDescription returns the description part of a Python script's path,
// or "description" if it has none.
func pythonDescription(p string) string {
	f, _, err := ParseName(path.Base(p))
	if err != nil || f.Description == "" {
		return "description"
	}
	return f.Description
}

// dialects returns the database names ratchet has dialects for.
func dialects() []string {
	return []string{"sqlite", "postgresql", "mysql"}
}

// knownDBMS reports whether SQL scripts for dbms can be selected.
func knownDBMS(dbms string) bool {
	switch dbms {
	case DefaultDBMS, "sqlite", "postgresql", "mysql":
		return true
	}
	return false
}

// unknownDBMSMessage explains why scripts for dbms are never run.
func unknownDBMSMessage(dbms string) string {
	msg := fmt.Sprintf("database %q is not default, sqlite, postgresql or mysql; the script is never run", dbms)
	hint := map[string]string{"postgres": "postgresql", "pg": "postgresql", "mariadb": "mysql", "sqlite3": "sqlite"}[strings.ToLower(dbms)]
	if hint != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", hint)
	}
	return msg
}

// knownOperation reports whether op is an operation ratchet knows.
func knownOperation(op string) bool {
	switch op {
	case OpUpgrade, OpDowngrade, "expand", "migrate", "contract":
		return true
	}
	return false
}

// hasStatements reports whether text contains anything but white space,
// semicolons and SQL comments ("--" to the end of the line, "/* … */").
func hasStatements(text string) bool {
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == ';':
		case strings.HasPrefix(text[i:], "--"):
			end := strings.IndexByte(text[i:], '\n')
			if end < 0 {
				return false
			}
			i += end
		case strings.HasPrefix(text[i:], "/*"):
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				return false
			}
			i += 2 + end + 1
		default:
			return true
		}
	}
	return false
}
