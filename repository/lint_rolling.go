package repository

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/ratchetdb/ratchet/sqlsplit"
)

// The rolling lint: while a window is open the old release keeps running on the expanded
// schema, so an expand part may only add (and relax); data moves in migrate; what the old
// release used goes in contract, which also drops every trigger and function expand created.
// A small classifier of statements, not a parser: it knows the statements these rules are
// about and leaves others alone. `-- ratchet:lint-ignore RULE reason` on the lines before a
// statement waives a rule for it; the reason is required.

// Rolling lint rules.
const (
	RuleDrop          = "RU101" // expand drops or truncates what the old release uses
	RuleRename        = "RU102" // expand renames what the old release queries
	RuleNotNullColumn = "RU103" // expand adds a NOT NULL column without a default
	RuleTighten       = "RU104" // expand tightens or retypes a column
	RuleConstraint    = "RU105" // expand adds a constraint the old release may violate
	RuleDataChange    = "RU106" // expand deletes or updates rows
	RuleMigrateDDL    = "RU201" // migrate changes the schema
	RuleLeftover      = "RU301" // a trigger or function of expand that contract does not drop
	RuleContractAdds  = "RU302" // contract creates what belongs in expand
)

// LintRolling returns the rolling-lint findings of version's phase scripts as they resolve on
// dialect dbms ("sqlite", "postgresql", "mysql"); nil for a version that is not rolling.
func (r *Repository) LintRolling(version int, dbms string) []Finding {
	r.loadAll()
	r.mu.RLock()
	defer r.mu.RUnlock()
	v := r.versions[version]
	if v == nil || !v.rolling() {
		return nil
	}
	return lintRollingDialect(version, v, dbms)
}

// CreatedTrigger returns the name of the trigger stmt creates (unquoted, lower-case, without
// a schema), if it is a CREATE TRIGGER statement.
func CreatedTrigger(stmt string) (string, bool) {
	m := createObject.FindStringSubmatch(normalize(stmt))
	if m == nil || m[1] != "TRIGGER" {
		return "", false
	}
	return objectKey(m[2]), true
}

// lintRolling returns the rolling-lint findings of version n on every dialect, each once.
func lintRolling(n int, v *version) []Finding {
	var out []Finding
	for _, d := range dialects() {
		for _, f := range lintRollingDialect(n, v, d) {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

func lintRollingDialect(n int, v *version, dbms string) []Finding {
	var out []Finding
	parts := map[string]*lintedScript{}
	for _, op := range []string{OpExpand, OpMigrate, OpContract} {
		file, _ := v.script(n, dbms, op)
		if file == nil || file.Kind != SQL || !file.loaded {
			continue
		}
		ls, findings := lintScript(file, splitDialect(dbms))
		out = append(out, findings...)
		if ls != nil {
			parts[op] = ls
		}
	}
	// RU301: what expand creates that only a trigger or function keeps alive, contract drops.
	if e := parts[OpExpand]; e != nil {
		var dropped []string
		contract := "no contract script"
		if c := parts[OpContract]; c != nil {
			dropped, contract = c.droppedIfExists, c.path
		}
		for _, obj := range e.created {
			if !slices.Contains(dropped, obj.key) && !e.waived(obj.index, RuleLeftover) {
				out = append(out, Finding{e.path, SeverityError, fmt.Sprintf(
					"%s line %d: %s %s is never dropped: add `DROP %s IF EXISTS %s` to %s (IF EXISTS: an offline run never created it)",
					RuleLeftover, obj.line, strings.ToLower(obj.kind), obj.name, obj.kind, obj.name, contract)})
			}
		}
	}
	return out
}

// lintedScript is what the rules of other scripts need to know of one script.
type lintedScript struct {
	path            string
	created         []createdObject // triggers and functions it creates
	droppedIfExists []string        // keys of the triggers and functions it drops IF EXISTS
	waivers         map[int][]string
}

type createdObject struct {
	kind, name, key string // kind: TRIGGER or FUNCTION
	line, index     int
}

func (ls *lintedScript) waived(index int, rule string) bool {
	return slices.Contains(ls.waivers[index], rule)
}

// lintScript applies the rules of a phase script's own phase.
func lintScript(s *Script, d sqlsplit.Dialect) (*lintedScript, []Finding) {
	if d == 0 {
		d = sqlsplit.PostgreSQL // a default script runs everywhere; its lexical rules are the strictest
	}
	stmts, err := sqlsplit.Split(s.SQL, d)
	if err != nil {
		return nil, nil // the commands report it, naming the line
	}
	ds, err := sqlsplit.Directives(s.SQL)
	if err != nil {
		return nil, nil
	}
	ls := &lintedScript{path: s.Path, waivers: map[int][]string{}}
	var out []Finding
	add := func(i int, rule, severity, format string, args ...any) {
		if ls.waived(i, rule) {
			return
		}
		out = append(out, Finding{s.Path, severity, fmt.Sprintf("%s line %d: ", rule, stmts[i].Line) + fmt.Sprintf(format, args...)})
	}
	for _, dir := range ds {
		if dir.Name != "lint-ignore" {
			continue
		}
		rule, reason, _ := strings.Cut(dir.Value, " ")
		i := slices.IndexFunc(stmts, func(st sqlsplit.Statement) bool { return st.Line > dir.Line })
		switch {
		case !strings.HasPrefix(rule, "RU") || strings.TrimSpace(reason) == "":
			out = append(out, Finding{s.Path, SeverityError, fmt.Sprintf("line %d: write -- ratchet:lint-ignore RULE reason (the reason is required)", dir.Line)})
		case i < 0:
			out = append(out, Finding{s.Path, SeverityWarning, fmt.Sprintf("line %d: -- ratchet:lint-ignore %s waives nothing: no statement follows", dir.Line, rule)})
		default:
			ls.waivers[i] = append(ls.waivers[i], rule)
			out = append(out, Finding{s.Path, SeverityInfo, fmt.Sprintf("%s waived at line %d: %s", rule, stmts[i].Line, strings.TrimSpace(reason))})
		}
	}
	norm := make([]string, len(stmts))
	for i, st := range stmts {
		norm[i] = normalize(st.Text)
	}
	for i, n := range norm {
		if m := createObject.FindStringSubmatch(n); m != nil {
			kind := m[1]
			if kind == "PROCEDURE" {
				kind = "FUNCTION"
			}
			ls.created = append(ls.created, createdObject{kind: kind, name: m[2], key: kind + " " + objectKey(m[2]), line: stmts[i].Line, index: i})
		}
		if m := dropObjectIfExists.FindStringSubmatch(n); m != nil {
			kind := m[1]
			if kind == "PROCEDURE" {
				kind = "FUNCTION"
			}
			ls.droppedIfExists = append(ls.droppedIfExists, kind+" "+objectKey(m[2]))
		}
		switch s.Operation {
		case OpExpand:
			lintExpand(norm, i, add)
		case OpMigrate:
			if kw := firstWord(n); slices.Contains(schemaChanging, kw) {
				add(i, RuleMigrateDDL, SeverityError, "a data migration must not change the schema (%s): put it in the expand or contract script", kw)
			}
		case OpContract:
			if strings.HasPrefix(n, "CREATE TABLE ") {
				add(i, RuleContractAdds, SeverityWarning, "CREATE TABLE in a contract script: new tables belong in expand")
			}
			if t, clauses := alterClauses(n); t != "" {
				for _, c := range clauses {
					if addsColumn(c) {
						add(i, RuleContractAdds, SeverityWarning, "ADD COLUMN in a contract script: new columns belong in expand")
					}
				}
			}
		}
	}
	return ls, out
}

// lintExpand applies the expand rules to statement i of a script's normalized statements.
func lintExpand(norm []string, i int, add func(i int, rule, severity, format string, args ...any)) {
	n := norm[i]
	const moveToContract = "the old release still uses it: do it in the contract script"
	switch kw := firstWord(n); {
	case kw == "TRUNCATE":
		add(i, RuleDrop, SeverityError, "TRUNCATE in an expand script: %s", moveToContract)
	case kw == "DELETE":
		add(i, RuleDataChange, SeverityError, "DELETE in an expand script: data changes belong in the migrate script")
	case kw == "UPDATE":
		add(i, RuleDataChange, SeverityWarning, "UPDATE in an expand script: data changes belong in the migrate script")
	case strings.HasPrefix(n, "RENAME TABLE "):
		add(i, RuleRename, SeverityError, "RENAME TABLE in an expand script: the old release queries the old name")
	case dropTable.MatchString(n):
		m := dropTable.FindStringSubmatch(n)
		if !replacedLater(norm, i, m[2]) {
			add(i, RuleDrop, SeverityError, "DROP %s in an expand script: %s", m[1], moveToContract)
		}
	}
	table, clauses := alterClauses(n)
	if table == "" {
		return
	}
	for _, c := range clauses {
		switch {
		case strings.HasPrefix(c, "DROP ") && !strings.HasPrefix(c, "DROP DEFAULT") && !strings.HasPrefix(c, "DROP NOT NULL"):
			add(i, RuleDrop, SeverityError, "ALTER TABLE … %s in an expand script: %s", clauseHead(c), moveToContract)
		case strings.HasPrefix(c, "RENAME TO ") || strings.HasPrefix(c, "RENAME AS "):
			if !droppedBefore(norm, i, strings.Fields(c)[2]) {
				add(i, RuleRename, SeverityError, "ALTER TABLE … RENAME in an expand script: the old release queries the old name")
			}
		case strings.HasPrefix(c, "RENAME ") || strings.HasPrefix(c, "CHANGE "):
			add(i, RuleRename, SeverityError, "ALTER TABLE … %s in an expand script: the old release queries the old name; add the new column, keep both in step with triggers", clauseHead(c))
		case addsColumn(c) && strings.Contains(c, " NOT NULL") && !strings.Contains(c, " DEFAULT ") && !strings.Contains(c, " PRIMARY KEY"):
			add(i, RuleNotNullColumn, SeverityError, "ALTER TABLE … ADD adds a NOT NULL column without a DEFAULT: the old release's INSERTs omit it; add it nullable (or with a default) and set NOT NULL in contract")
		case addConstraint.MatchString(c):
			sev := SeverityError
			if strings.Contains(c, " NOT VALID") {
				sev = SeverityWarning
			}
			add(i, RuleConstraint, sev, "ALTER TABLE … %s in an expand script: the old release may write rows that violate it; add it in contract", clauseHead(c))
		case strings.HasPrefix(c, "MODIFY ") && strings.Contains(c, " NOT NULL"),
			strings.HasPrefix(c, "ALTER ") && (strings.Contains(c, " SET NOT NULL") || strings.Contains(c, " TYPE ") || strings.Contains(c, " SET DATA TYPE ")):
			add(i, RuleTighten, SeverityError, "ALTER TABLE … %s in an expand script: tightening or retyping a column breaks the old release's writes; do it in contract (relaxing, DROP NOT NULL, is fine)", clauseHead(c))
		}
	}
}

var (
	dropTable          = regexp.MustCompile(`^DROP (TABLE|VIEW|INDEX|SEQUENCE|SCHEMA|DATABASE|MATERIALIZED VIEW) (?:IF EXISTS )?([^ ;(]+)`)
	createObject       = regexp.MustCompile(`^CREATE (?:OR REPLACE )?(?:DEFINER ?= ?\S+ )?(?:CONSTRAINT )?(TRIGGER|FUNCTION|PROCEDURE) (?:IF NOT EXISTS )?([^ (]+)`)
	dropObjectIfExists = regexp.MustCompile(`^DROP (TRIGGER|FUNCTION|PROCEDURE) IF EXISTS ([^ (;]+)`)
	alterTable         = regexp.MustCompile(`^ALTER TABLE (?:IF EXISTS )?(?:ONLY )?([^ ]+) (.*)$`)
	addConstraint      = regexp.MustCompile(`^ADD (?:CONSTRAINT [^ ]+ )?(UNIQUE|CHECK|FOREIGN KEY|PRIMARY KEY)\b`)
)

// schemaChanging are the first words of statements that change the schema.
var schemaChanging = []string{"CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE", "COMMENT", "GRANT", "REVOKE"}

// alterClauses returns the table and the top-level clauses of an ALTER TABLE statement, or ""
// for another statement.
func alterClauses(n string) (table string, clauses []string) {
	m := alterTable.FindStringSubmatch(n)
	if m == nil {
		return "", nil
	}
	depth, start := 0, 0
	rest := m[2]
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				clauses = append(clauses, strings.TrimSpace(rest[start:i]))
				start = i + 1
			}
		}
	}
	return m[1], append(clauses, strings.TrimSpace(rest[start:]))
}

// addsColumn reports whether an ALTER TABLE clause adds a column (not a constraint or index).
func addsColumn(c string) bool {
	if !strings.HasPrefix(c, "ADD ") || addConstraint.MatchString(c) {
		return false
	}
	w := strings.Fields(c)
	return len(w) > 1 && !slices.Contains([]string{"INDEX", "KEY", "CONSTRAINT", "FULLTEXT", "SPATIAL", "PARTITION"}, w[1])
}

// replacedLater reports whether the table dropped by statement i is replaced by a later
// statement renaming another table to its name: the table rebuild SQLite needs to change a
// column, which keeps the table.
func replacedLater(norm []string, i int, name string) bool {
	for _, n := range norm[i+1:] {
		if _, clauses := alterClauses(n); len(clauses) == 1 {
			if f := strings.Fields(clauses[0]); len(f) == 3 && f[0] == "RENAME" && (f[1] == "TO" || f[1] == "AS") && objectKey(f[2]) == objectKey(name) {
				return true
			}
		}
	}
	return false
}

// droppedBefore reports whether a statement before i drops the table named name: the rename
// that ends a table rebuild.
func droppedBefore(norm []string, i int, name string) bool {
	for _, n := range norm[:i] {
		if m := dropTable.FindStringSubmatch(n); m != nil && m[1] == "TABLE" && objectKey(m[2]) == objectKey(name) {
			return true
		}
	}
	return false
}

// objectKey compares object names: unquoted, lower-case, without a schema.
func objectKey(name string) string {
	name = strings.Trim(name, "`\"[];")
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return strings.ToLower(strings.Trim(name, "`\"[]"))
}

// clauseHead is the keywords a clause starts with, for messages: "DROP COLUMN", "ADD
// CONSTRAINT", "MODIFY" — not the names, which the classifier upper-cased.
func clauseHead(c string) string {
	w := strings.Fields(c)
	head := w[0]
	if len(w) > 1 && slices.Contains([]string{"COLUMN", "CONSTRAINT", "INDEX", "KEY", "PRIMARY", "FOREIGN", "UNIQUE", "CHECK"}, w[1]) {
		head += " " + w[1]
	}
	return head
}

// firstWord returns the first word of a normalized statement.
func firstWord(n string) string {
	w, _, _ := strings.Cut(n, " ")
	return w
}

// normalize returns a statement upper-cased outside quoted names, with comments removed,
// string literals emptied and white space collapsed, for the classifier's patterns.
func normalize(stmt string) string {
	var b strings.Builder
	for i := 0; i < len(stmt); i++ {
		c := stmt[i]
		switch {
		case c == '-' && strings.HasPrefix(stmt[i:], "--"), c == '#':
			end := strings.IndexByte(stmt[i:], '\n')
			if end < 0 {
				i = len(stmt)
				continue
			}
			i += end
			b.WriteByte(' ')
		case c == '/' && strings.HasPrefix(stmt[i:], "/*") && !strings.HasPrefix(stmt[i:], "/*!"):
			end := strings.Index(stmt[i+2:], "*/")
			if end < 0 {
				i = len(stmt)
				continue
			}
			i += end + 3
			b.WriteByte(' ')
		case c == '\'':
			end := strings.IndexByte(stmt[i+1:], '\'')
			if end < 0 {
				i = len(stmt)
				continue
			}
			b.WriteString("''")
			i += end + 1
		case c == '"' || c == '`':
			end := strings.IndexByte(stmt[i+1:], c)
			if end < 0 {
				i = len(stmt)
				continue
			}
			b.WriteString(stmt[i : i+end+2])
			i += end + 1
		case c == '$' && strings.HasPrefix(stmt[i:], "$$"):
			end := strings.Index(stmt[i+2:], "$$")
			if end < 0 {
				i = len(stmt)
				continue
			}
			b.WriteString("$$")
			i += end + 3
		case c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		default:
			b.WriteByte(c)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// RuleRebuildAcrossWindow: in a window every expand runs before any contract, so a contract
// that rebuilds a table (SQLite's way to change a column) drops what a later version's expand
// added to that table before it.
const RuleRebuildAcrossWindow = "RU303"

// LintWindow returns the findings about rolling versions that share a window, run phase-major
// on dialect dbms: a contract that rebuilds a table a later version of the window expands.
func (r *Repository) LintWindow(versions []int, dbms string) []Finding {
	r.loadAll()
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.lintWindowLocked(versions, dbms)
}

func (r *Repository) lintWindowLocked(versions []int, dbms string) []Finding {
	var out []Finding
	for i, j := range versions {
		contract := r.phaseScript(j, dbms, OpContract)
		if contract == nil {
			continue
		}
		rebuilt := rebuiltTables(contract)
		if len(rebuilt) == 0 {
			continue
		}
		for _, k := range versions[i+1:] {
			expand := r.phaseScript(k, dbms, OpExpand)
			if expand == nil {
				continue
			}
			for _, t := range touchedTables(expand) {
				if slices.Contains(rebuilt, t) {
					out = append(out, Finding{contract.Path, SeverityError, fmt.Sprintf(
						"%s: this contract rebuilds table %s, which the expand of version %d changes before it (every expand of a window runs before its contracts): the rebuild would drop what version %d adds; put -- ratchet:barrier in version %d's expand script so that it starts a new window",
						RuleRebuildAcrossWindow, t, k, k, k)})
				}
			}
		}
	}
	return out
}

// phaseScript returns the loaded SQL script of version v's phase on dbms, or nil. The caller
// holds r.mu.
func (r *Repository) phaseScript(v int, dbms, op string) *Script {
	ver := r.versions[v]
	if ver == nil {
		return nil
	}
	s, _ := ver.script(v, dbms, op)
	if s == nil || s.Kind != SQL || !s.loaded {
		return nil
	}
	return s
}

// rollingWindows returns the repository's rolling versions grouped as they share windows:
// consecutive rolling versions, a barrier starting a new window. The caller holds r.mu.
func (r *Repository) rollingWindows(dbms string) [][]int {
	var out [][]int
	var cur []int
	prev := 0
	for _, n := range r.sorted {
		v := r.versions[n]
		barrier := false
		if e := r.phaseScript(n, dbms, OpExpand); e != nil {
			ds, _ := sqlsplit.Directives(e.SQL)
			_, barrier = sqlsplit.Find(ds, sqlsplit.DirectiveBarrier)
		}
		if !v.rolling() || barrier || (!r.timestamps && n != prev+1) {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
		}
		if v.rolling() {
			cur = append(cur, n)
		}
		prev = n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// rebuiltTables returns the tables a script drops and replaces by renaming another table to
// their name.
func rebuiltTables(s *Script) []string {
	norm := normalizedStatements(s)
	var out []string
	for i, n := range norm {
		if m := dropTable.FindStringSubmatch(n); m != nil && m[1] == "TABLE" && replacedLater(norm, i, m[2]) {
			out = append(out, objectKey(m[2]))
		}
	}
	return out
}

// touchedTables returns the tables a script alters, or puts triggers or indexes on.
func touchedTables(s *Script) []string {
	var out []string
	for _, n := range normalizedStatements(s) {
		if t, _ := alterClauses(n); t != "" {
			out = append(out, objectKey(t))
		}
		if m := onTable.FindStringSubmatch(n); m != nil {
			out = append(out, objectKey(m[1]))
		}
	}
	return out
}

// normalizedStatements returns a script's statements as the classifier reads them (see
// normalize); none for a script that cannot be split, which the commands report.
func normalizedStatements(s *Script) []string {
	stmts, err := sqlsplit.Split(s.SQL, sqlsplitDialect(s.DBMS))
	if err != nil {
		return nil
	}
	norm := make([]string, len(stmts))
	for i, st := range stmts {
		norm[i] = normalize(st.Text)
	}
	return norm
}

// onTable finds the table of CREATE TRIGGER … ON t and CREATE INDEX … ON t.
var onTable = regexp.MustCompile(`^CREATE (?:OR REPLACE )?(?:UNIQUE )?(?:DEFINER ?= ?\S+ )?(?:TRIGGER|INDEX)\b.*? ON (?:TABLE )?([^ (]+)`)

// sqlsplitDialect returns the splitter rules for a script's database: PostgreSQL's, the
// strictest, for a default script.
func sqlsplitDialect(dbms string) sqlsplit.Dialect {
	if d := splitDialect(dbms); d != 0 {
		return d
	}
	return sqlsplit.PostgreSQL
}
