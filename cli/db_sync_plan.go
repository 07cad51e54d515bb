package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/repository"
)

// refuseTemplates refuses a plan that would run a script still exactly as `repo new` wrote
// it: applied, it would be an empty version that can never be edited again without a
// checksum mismatch.
func refuseTemplates(plan *ratchet.Plan) error {
	for _, st := range plan.Steps {
		if st.Script != nil && st.Script.IsTemplate() {
			return usageErrorf("%s is still the template that repo new wrote: write version %d's SQL in it first", st.Script.Path, st.Version)
		}
	}
	return nil
}

// dryRun is what a dry run would do, for its output.
type dryRun struct {
	plan    *ratchet.Plan
	create  string // the database that would be created, redacted URL
	stampAt int    // -1, or the version the database would be put under version control at
	dialect string // the dialect's name, as in script names
}

// doc is the JSON document of a dry run.
func (d *dryRun) doc() map[string]any {
	steps := make([]map[string]any, 0, len(d.plan.Steps))
	for _, st := range d.plan.Steps {
		stmts := make([]map[string]any, 0, len(st.Statements))
		for i, s := range st.Statements[st.ResumeAt:] {
			stmt := map[string]any{"index": st.ResumeAt + i + 1, "line": s.Line, "sql": s.Text}
			if skippedOnline(st, st.ResumeAt+i) {
				stmt["skipped"] = "online block"
			}
			stmts = append(stmts, stmt)
		}
		step := map[string]any{"version": st.Version, "from": st.From, "phase": st.Phase, "script": st.ScriptPath(),
			"journalled": st.Journalled, "statements": stmts}
		if st.Script != nil {
			step["kind"] = st.Script.Kind.String()
		}
		if st.ResumeAt > 0 {
			step["resume_at"] = st.ResumeAt + 1
		}
		steps = append(steps, step)
	}
	doc := map[string]any{"dry_run": true, "dialect": d.dialect, "from": d.plan.Current, "to": d.plan.Target,
		// Whether the database is under version control now; "from" is where the upgrade
		// would start, after any stamp.
		"controlled": d.plan.Controlled && d.stampAt < 0, "plan": steps}
	switch {
	case d.stampAt >= 0:
		doc["stamp_at"] = d.stampAt
	case !d.plan.Controlled:
		doc["stamp_at"] = 0
	}
	if d.create != "" {
		doc["create_database"] = d.create
	}
	return doc
}

// text writes the plan for a person: each version, its script and its statements with
// file:line and their first line.
func (d *dryRun) text(w io.Writer) {
	fmt.Fprintln(w, "dry run: nothing is changed")
	if d.create != "" {
		fmt.Fprintf(w, "would create the database %s\n", d.create)
	}
	switch {
	case d.stampAt >= 0:
		fmt.Fprintf(w, "would put the database under version control at version %d (CURRENT_VERSION)\n", d.stampAt)
	case !d.plan.Controlled:
		fmt.Fprintln(w, "database is empty: would put it under version control at version 0")
	}
	for _, st := range d.plan.Steps {
		n := len(st.Statements) - st.ResumeAt
		how := statements(n)
		switch {
		case st.Script == nil:
			how = "nothing to run"
		case st.Batched() && st.Script.Kind == repository.Go:
			how = "Go data migration, in batches"
		case st.Batched():
			how += ", repeated until it changes no row"
		case st.Script.Kind == repository.Go:
			how = "Go migration"
		case st.ResumeAt > 0:
			how = fmt.Sprintf("resuming at statement %d: %s", st.ResumeAt+1, how)
		}
		if st.Journalled {
			how += ", journalled statement by statement"
		}
		fmt.Fprintf(w, "%s  %s  (%s)\n", stepLabel(st), st.ScriptPath(), how)
		for i, s := range st.Statements[st.ResumeAt:] {
			skipped := ""
			if skippedOnline(st, st.ResumeAt+i) {
				skipped = "  (online block: skipped offline)"
			}
			fmt.Fprintf(w, "    %s:%d  %s%s\n", st.Script.Path, s.Line, firstLine(s.Text, 100), skipped)
		}
	}
	if len(d.plan.Steps) == 0 {
		fmt.Fprintf(w, "database is up to date at version %d: nothing would run\n", d.plan.Current)
		return
	}
	fmt.Fprintf(w, "would upgrade the database from version %d to %d\n", d.plan.Current, d.plan.Target)
}

// sql writes the statements a DBA would review, in order, each version introduced by a
// comment naming its file.
func (d *dryRun) sql(w io.Writer) {
	fmt.Fprintf(w, "-- upgrade of the %s database from version %d to %d (dry run: nothing was run)\n", d.dialect, d.plan.Current, d.plan.Target)
	if d.create != "" {
		fmt.Fprintf(w, "-- the database %s does not exist yet: it would be created\n", d.create)
	}
	switch {
	case d.stampAt >= 0:
		fmt.Fprintf(w, "-- the database would first be put under version control at version %d\n", d.stampAt)
	case !d.plan.Controlled:
		fmt.Fprintln(w, "-- the database would first be put under version control at version 0")
	}
	for _, st := range d.plan.Steps {
		what := fmt.Sprintf("version %d", st.Version)
		if st.Phase != "upgrade" {
			what += " " + st.Phase
		}
		fmt.Fprintf(w, "\n-- %s: %s\n", what, st.ScriptPath())
		if st.Script == nil {
			continue
		}
		if st.Script.Kind == repository.Go {
			fmt.Fprintln(w, "-- a Go migration: its SQL is known only when it runs")
			continue
		}
		if st.Batched() {
			fmt.Fprintln(w, "-- ratchet:repeat: the statement runs again, one transaction each, until it changes no row")
		}
		for i, s := range st.Statements[st.ResumeAt:] {
			if skippedOnline(st, st.ResumeAt+i) {
				continue
			}
			// A MySQL compound statement (procedure, trigger) holds semicolons: the mysql
			// client reads it whole only under another delimiter.
			if d.dialect == "mysql" && hasBareSemicolon(s.Text) {
				fmt.Fprintf(w, "DELIMITER $$\n%s$$\nDELIMITER ;\n", s.Text)
				continue
			}
			fmt.Fprintf(w, "%s;\n", s.Text)
		}
	}
}

// firstLine is the first line of s, cut to at most n runes, marked "…" when anything was
// left out.
func firstLine(s string, n int) string {
	line, rest, more := strings.Cut(s, "\n")
	line = strings.TrimRight(line, " \t\r")
	if r := []rune(line); len(r) > n {
		line, more = string(r[:n]), true
	} else if more && strings.TrimSpace(rest) == "" {
		more = false
	}
	if more {
		line += " …"
	}
	return line
}

// runDryRun works out and prints what the upgrade would do, without changing anything:
// nothing is created or stamped, and no lock is taken (planning only reads).
func runDryRun(cmd *cobra.Command, g *globals, f syncFlags, target, stampVersion int, opts []ratchet.UpgradeOption) error {
	ctx := cmd.Context()
	// Opened as a writing command would be, so that a missing database reads as empty instead
	// of failing; it is never created.
	s, err := g.openSession(ctx, true)
	if err != nil {
		return err
	}
	defer s.Close()
	m, err := g.migrator(s)
	if err != nil {
		return err
	}
	d := &dryRun{stampAt: stampVersion, dialect: s.db.url.Dialect}
	if s.db.absent {
		d.create = s.db.url.String()
	}
	switch {
	case stampVersion >= 0:
		if !s.db.absent {
			st, err := m.Status(ctx)
			if err != nil {
				return err
			}
			if st.Controlled {
				return &ratchet.AlreadyControlledError{Version: st.Version}
			}
		}
		d.plan, err = m.PlanFrom(stampVersion, target, opts...)
	case s.db.absent:
		if d.plan, err = m.PlanFrom(0, target, opts...); err == nil {
			d.plan.Controlled = false
		}
	default:
		d.plan, err = m.Plan(ctx, target, opts...)
	}
	if err != nil {
		return err
	}
	if err := refuseTemplates(d.plan); err != nil {
		return err
	}
	switch {
	case s.json:
		return writeJSON(g.stdout, d.doc())
	case f.sql:
		d.sql(g.stdout)
	default:
		d.text(g.stdout)
	}
	return nil
}

// hasBareSemicolon reports whether a MySQL statement holds a ";" outside quotes and comments,
// as a compound statement's body does.
func hasBareSemicolon(text string) bool {
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == ';':
			return true
		case c == '\'' || c == '"' || c == '`':
			for i++; i < len(text) && text[i] != c; i++ {
				if text[i] == '\\' && c != '`' {
					i++
				}
			}
		case c == '#' || c == '-' && strings.HasPrefix(text[i:], "-- "):
			if j := strings.IndexByte(text[i:], '\n'); j >= 0 {
				i += j
			} else {
				return false
			}
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			j := strings.Index(text[i+2:], "*/")
			if j < 0 {
				return false
			}
			i += j + 3
		}
	}
	return false
}

// skippedOnline reports whether statement i of st belongs to an online block that the
// offline run skips.
func skippedOnline(st ratchet.Step, i int) bool {
	return st.Offline && i < len(st.Online) && st.Online[i]
}

// stepLabel names a step in a line of output: "4 -> 5" for a version, "11 expand" for a
// phase of a rolling version.
func stepLabel(st ratchet.Step) string {
	if st.Phase == "" || st.Phase == "upgrade" {
		return fmt.Sprintf("%d -> %d", st.From, st.Version)
	}
	return fmt.Sprintf("%d %s", st.Version, st.Phase)
}
