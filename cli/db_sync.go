package cli

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ratchetdb/ratchet"
)

type syncFlags struct {
	version, current string
	resume, retry    bool
	inFlight         string
	skipSanityCheck  bool
	atomic           bool
	backupDir        string
	dryRun, sql      bool
	extra            []ratchet.UpgradeOption // options a command adds to those of its flags
}

// register adds the flags sync and upgrade share.
func (f *syncFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.version, "version", "", "target version (legacy spelling of VERSION)")
	cmd.Flags().BoolVar(&f.resume, "resume", false, "continue a version that stopped part way after its last applied statement (MySQL/MariaDB, no-transaction scripts)")
	cmd.Flags().BoolVar(&f.retry, "retry", false, "run a version that stopped part way again from its first statement")
	cmd.Flags().StringVar(&f.inFlight, "in-flight", "", "with --resume, whether the statement that was running when the version was interrupted took effect: completed (continue after it) or not-completed (run it again)")
	cmd.Flags().BoolVar(&f.skipSanityCheck, "skip-sanity-check", false, "do not check that MySQL/MariaDB tables have a utf8 collation")
	cmd.Flags().BoolVar(&f.atomic, "atomic", false, "apply all pending versions in one transaction, all or nothing (SQLite, PostgreSQL; refused on MySQL/MariaDB)")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the plan (each version, its script, its statements with file:line) and change nothing: no database created, nothing stamped, no lock kept")
	cmd.Flags().BoolVar(&f.sql, "sql", false, "print the SQL the upgrade would run, in order, each version introduced by a comment naming its file, and change nothing (implies --dry-run)")
	cmd.Flags().StringVar(&f.backupDir, "backup-dir", "", "when there is anything to apply, first write a verified backup to DIR (default: [ratchet] backup_dir from the config file)")
}

// options returns the upgrade options the flags select.
func (f *syncFlags) options() ([]ratchet.UpgradeOption, error) {
	var opts []ratchet.UpgradeOption
	switch {
	case f.resume && f.retry:
		return nil, usageErrorf("--resume and --retry exclude each other")
	case f.resume:
		opts = append(opts, ratchet.Resume())
	case f.retry:
		opts = append(opts, ratchet.Retry())
	}
	switch {
	case f.inFlight == "":
	case !f.resume:
		return nil, usageErrorf("--in-flight goes with --resume")
	case f.inFlight == "completed" || f.inFlight == "not-completed":
		opts = append(opts, ratchet.InFlight(f.inFlight == "completed"))
	default:
		return nil, usageErrorf("--in-flight=%q: want completed or not-completed", f.inFlight)
	}
	if f.skipSanityCheck {
		opts = append(opts, ratchet.SkipSanityCheck())
	}
	if f.atomic {
		opts = append(opts, ratchet.Atomic())
	}
	return opts, nil
}

func newDBSyncCmd(g *globals) *cobra.Command {
	var f syncFlags
	cmd := &cobra.Command{
		Use:   "sync [VERSION] [CURRENT_VERSION]",
		Short: "Upgrade the database to VERSION (default: latest), stamping it at CURRENT_VERSION first if given",
		Long: `Upgrade the database to VERSION (default: the repository's latest version).

If CURRENT_VERSION is given (and is not "None"), the database is first put under version
control at CURRENT_VERSION, as db version_control does; that fails on a database already under
version control. An empty database is put under version control at 0.

Safety checks, all made before anything runs: a VERSION below the current one is refused
(downgrades are not supported, exit 2); a version missing from the repository, beyond the
latest or in a gap crossed on the way, is refused (exit 2); a database with tables but not
under version control is refused (exit 1). Each version then runs in its own transaction
together with its version update and history row; if a script fails, its version is rolled
back, earlier versions stay, and the error names the file and line (exit 1).

On MySQL/MariaDB, DDL commits implicitly, so a version runs statement by statement and its
progress is journalled (as are scripts starting with "-- ratchet:no-transaction", e.g. for
PostgreSQL's CREATE INDEX CONCURRENTLY). If such a version fails, the database records
"version N failed at statement k of n (file:line)" and the next run refuses until you
choose: fix the script and run with --resume (continue at statement k, after checking the
applied statements are unchanged), or undo what was applied and run with --retry (run the
version again from statement 1). If the process died while a statement that commits by itself
was running (DDL on MySQL), only you can tell whether it took effect: check, then add
--in-flight=completed (continue after it) or --in-flight=not-completed (run it again) to
--resume. On MySQL/MariaDB the legacy utf8 collation check runs before
and after upgrading (--skip-sanity-check turns it off).

With --backup-dir DIR (or backup_dir in the config file's [ratchet] section), when there is
anything to apply, a verified backup (see db backup) is written to DIR first and its path
printed; if the upgrade then fails, the error ends with the db restore command that goes back.

--dry-run prints the plan instead (each version, the script chosen for this database, its
statements with file:line) and changes nothing: no database or SQLite file is created, nothing
is stamped, no lock is taken. --sql prints the SQL that would run, in order, for review.
A script still exactly as repo new wrote it is refused (exit 2): write its SQL first.

On a terminal, a version that runs longer than a second shows a live line (its script, the
statement it is at, the time so far) until its final line replaces it.`,
		Example: "  ratchet db sync\n  ratchet db sync 12\n  ratchet db sync 12 10    # stamp at 10, then upgrade to 12\n  ratchet db sync --dry-run # the plan: each version, its script, its statements\n  ratchet db sync --sql     # the SQL a DBA reviews, in order\n  ratchet db sync --resume  # after fixing a script that failed part way on MySQL\n  ratchet db sync --resume --in-flight=completed  # the DDL running at a crash took effect",
		Args:    versionArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				f.version = args[0]
			}
			if len(args) > 1 {
				f.current = args[1]
			}
			return runUpgrade(cmd, g, f)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&f.current, "current_version", "", "stamp at this version first (legacy spelling of CURRENT_VERSION)")
	return cmd
}

func newDBUpgradeCmd(g *globals) *cobra.Command {
	var f syncFlags
	cmd := &cobra.Command{
		Use:   "upgrade [VERSION]",
		Short: "Upgrade the database to VERSION (default: latest)",
		Long: `Upgrade the database to VERSION (default: the repository's latest version).

The same as db sync without CURRENT_VERSION; see db sync --help for the safety checks.`,
		Example: "  ratchet db upgrade\n  ratchet db upgrade 12\n  ratchet db upgrade 12 --dry-run",
		Args:    versionArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				f.version = args[0]
			}
			return runUpgrade(cmd, g, f)
		},
	}
	f.register(cmd)
	return cmd
}

func runUpgrade(cmd *cobra.Command, g *globals, f syncFlags) error {
	ctx := cmd.Context()
	target, err := parseTarget(f.version)
	if err != nil {
		return err
	}
	opts, err := f.options()
	if err != nil {
		return err
	}
	stampVersion := -1
	if f.current != "" && f.current != "None" {
		if stampVersion, err = parseVersion("current version", f.current, 0); err != nil {
			return err
		}
	}
	if f.dryRun || f.sql {
		return runDryRun(cmd, g, f, target, stampVersion, opts)
	}
	s, err := g.openSession(ctx, true)
	if err != nil {
		return err
	}
	defer s.Close()
	out := &upgradeOutput{g: g, json: s.json}
	withProgress := ratchet.WithEvents(out.event)
	m, err := g.migrator(s, withProgress)
	if err != nil {
		return err
	}
	var report runReport
	// plan is the upgrade worked out beforehand: the checks that must pass before anything is
	// created or stamped, the template check, and the statements the live line counts.
	var plan *ratchet.Plan
	if stampVersion >= 0 {
		// Refuse a bad target before stamping, so that a refused sync changes nothing.
		plan, err = m.PlanFrom(stampVersion, target, opts...)
		if err != nil {
			return err
		}
		if err := refuseTemplates(plan); err != nil {
			return err
		}
		absent := s.db.absent
		if err := stampAt(cmd, g, s, stampVersion); err != nil {
			return err
		}
		report.stamped, report.stampAt = true, stampVersion
		if absent {
			report.created = s.db.url.String()
		}
		if !s.json {
			fmt.Fprintf(g.stdout, "database put under version control at version %d (CURRENT_VERSION): the scripts up to it are taken as applied, not run\n", stampVersion)
		}
	} else if s.db.absent {
		// Check the request against an empty database before creating it, so that a refused
		// upgrade creates nothing.
		plan, err = m.PlanFrom(0, target, opts...)
		if err != nil {
			return err
		}
		if err := refuseTemplates(plan); err != nil {
			return err
		}
		if err := s.db.create(ctx); err != nil {
			return err
		}
		report.created = s.db.url.String()
	}
	// The database may have been created: use a migrator on the real one.
	if m, err = g.migrator(s, withProgress); err != nil {
		return err
	}
	if stampVersion < 0 && report.created == "" {
		// The template check made above for a new or stamped database. Planning takes no
		// lock: while another process migrates, the plan may be refused for a state that
		// process is about to change (a journalled version in flight), so a planning error
		// is left to Upgrade, which reads the state under the lock.
		if p, err := m.Plan(ctx, target, opts...); err == nil {
			if err := refuseTemplates(p); err != nil {
				return err
			}
			plan = p
		}
	}
	var bk *upgradeBackup
	if dir := pick(f.backupDir, s.backupDir); dir != "" {
		// Taken once the run holds the migration lock and knows that there is something to
		// apply: concurrent runs never both back up, nor back up a version about to change.
		opts = append(opts, ratchet.BeforeApply(func(ctx context.Context, plan *ratchet.Plan, conn *sql.Conn) (err error) {
			if out.live != nil {
				out.live.pause()
			}
			if bk, err = g.backupBeforeUpgrade(ctx, s, conn, plan.Current, dir); bk != nil {
				report.backup = bk.path
			}
			return err
		}))
	}
	if !s.json && isTerminal(g.stdout) {
		out.live = newLiveLine(g.stdout, plan)
	}
	res, err := m.Upgrade(ctx, target, opts...)
	if out.live != nil {
		out.live.end()
	}
	if err != nil {
		doc := upgradeDoc(res, report)
		if fd := failureDoc(m, err); fd != nil {
			doc["failure"] = fd
		}
		return withFields(bk.explain(err), doc)
	}
	return g.print(s.settings, upgradeDoc(res, report), upgradeText(res))
}

// upgradeOutput prints an upgrade's events as they happen: one line per applied version
// (text output), warnings, and on a terminal the live line of a long version.
type upgradeOutput struct {
	g    *globals
	json bool
	live *liveLine // nil unless stdout is a terminal
}

func (o *upgradeOutput) event(e ratchet.Event) {
	if o.live != nil {
		o.live.event(e)
	}
	switch e.Kind {
	case ratchet.Warning:
		if o.live != nil {
			o.live.pause()
		}
		o.g.warn(e.Message)
	case ratchet.Stamped:
		switch {
		case o.json:
		case e.Message != "":
			fmt.Fprintf(o.g.stdout, "%s: put under version control at version 0\n", e.Message)
		default:
			fmt.Fprintln(o.g.stdout, "database was empty: put under version control at version 0")
		}
	case ratchet.VersionStopped:
		if !o.json {
			fmt.Fprintf(o.g.stdout, "%s  %s  (%s in %d batch(es), %s; stopped with work left)\n", stepLabel(ratchet.Step{From: e.From, Version: e.Version, Phase: e.Phase}),
				e.Script, rowsCount(e.Rows), e.Statements, shortDuration(e.Duration))
		}
	case ratchet.VersionApplied:
		if o.json {
			break
		}
		what := statements(e.Statements)
		if e.Phase == "migrate" && e.Rows > 0 {
			what = fmt.Sprintf("%s in %d batch(es)", rowsCount(e.Rows), e.Statements)
		}
		fmt.Fprintf(o.g.stdout, "%s  %s  (%s, %s)\n", stepLabel(ratchet.Step{From: e.From, Version: e.Version, Phase: e.Phase}),
			e.Script, what, shortDuration(e.Duration))
	}
}

func upgradeText(res *ratchet.Result) string {
	if len(res.Applied) == 0 {
		// Nothing to do, or another process did it meanwhile.
		return fmt.Sprintf("database is up to date at version %d", res.End)
	}
	return fmt.Sprintf("database upgraded from version %d to %d", res.Start, res.End)
}
