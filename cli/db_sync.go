package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ratchetdb/ratchet"
)

type syncFlags struct {
	version, current string
	resume, retry    bool
	skipSanityCheck  bool
	atomic           bool
	backupDir        string
}

// register adds the flags sync and upgrade share.
func (f *syncFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.version, "version", "", "target version (legacy spelling of VERSION)")
	cmd.Flags().BoolVar(&f.resume, "resume", false, "continue a version that stopped part way after its last applied statement (MySQL/MariaDB, no-transaction scripts)")
	cmd.Flags().BoolVar(&f.retry, "retry", false, "run a version that stopped part way again from its first statement")
	cmd.Flags().BoolVar(&f.skipSanityCheck, "skip-sanity-check", false, "do not check that MySQL/MariaDB tables have a utf8 collation")
	cmd.Flags().BoolVar(&f.atomic, "atomic", false, "apply all pending versions in one transaction, all or nothing (SQLite, PostgreSQL; refused on MySQL/MariaDB)")
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
"version N failed after statement k of n (file:line)" and the next run refuses until you
choose: fix the script and run with --resume (continue at statement k+1, after checking the
applied statements are unchanged), or undo what was applied and run with --retry (run the
version again from statement 1). On MySQL/MariaDB the legacy utf8 collation check runs before
and after upgrading (--skip-sanity-check turns it off).

With --backup-dir DIR (or backup_dir in the config file's [ratchet] section), when there is
anything to apply, a verified backup (see db backup) is written to DIR first and its path
printed; if the upgrade then fails, the error ends with the db restore command that goes back.`,
		Example: "  ratchet db sync\n  ratchet db sync 12\n  ratchet db sync 12 10    # stamp at 10, then upgrade to 12\n  ratchet db sync --resume # after fixing a script that failed part way on MySQL",
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
		Example: "  ratchet db upgrade\n  ratchet db upgrade 12",
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
	s, err := g.openSession(ctx, true)
	if err != nil {
		return err
	}
	defer s.Close()
	withProgress := ratchet.WithEvents(g.progress(s.settings))
	m, err := g.migrator(s, withProgress)
	if err != nil {
		return err
	}
	if stampVersion >= 0 {
		// Refuse a bad target before stamping, so that a refused sync changes nothing.
		if _, err := m.PlanFrom(stampVersion, target); err != nil {
			return err
		}
		if err := stampAt(cmd, g, s, stampVersion); err != nil {
			return err
		}
	} else if s.db.absent {
		// Check the request against an empty database before creating it, so that a refused
		// upgrade creates nothing.
		if _, err := m.PlanFrom(0, target); err != nil {
			return err
		}
		if err := s.db.create(ctx); err != nil {
			return err
		}
	}
	// The database may have been created: use a migrator on the real one.
	if m, err = g.migrator(s, withProgress); err != nil {
		return err
	}
	bk, err := g.backupBeforeUpgrade(ctx, s, m, target, pick(f.backupDir, s.backupDir), opts)
	if err != nil {
		return err
	}
	res, err := m.Upgrade(ctx, target, opts...)
	if err != nil {
		return bk.explain(err)
	}
	doc := upgradeDoc(res)
	if bk != nil {
		doc["backup"] = bk.path
	}
	return g.print(s.settings, doc, upgradeText(res))
}

// progress prints one line per applied version as it happens (text output), and warnings.
func (g *globals) progress(s *settings) func(ratchet.Event) {
	return func(e ratchet.Event) {
		switch e.Kind {
		case ratchet.Warning:
			g.warn(e.Message)
		case ratchet.Stamped:
			if !s.json {
				fmt.Fprintln(g.stdout, "database was empty: put under version control at version 0")
			}
		case ratchet.VersionApplied:
			if !s.json {
				fmt.Fprintf(g.stdout, "%d -> %d  %s  (%d statements, %s)\n",
					e.From, e.Version, e.Script, e.Statements, e.Duration.Round(1e5))
			}
		}
	}
}

func upgradeText(res *ratchet.Result) string {
	if len(res.Applied) == 0 {
		// Nothing to do, or another process did it meanwhile.
		return fmt.Sprintf("database is up to date at version %d", res.End)
	}
	return fmt.Sprintf("database upgraded from version %d to %d", res.Start, res.End)
}

func upgradeDoc(res *ratchet.Result) map[string]any {
	applied := make([]map[string]any, 0, len(res.Applied))
	for _, a := range res.Applied {
		applied = append(applied, map[string]any{
			"version": a.Version, "script": a.Script, "statements": a.Statements,
			"duration_ms": a.Duration.Milliseconds(),
		})
	}
	return map[string]any{"from": res.Start, "to": res.End, "stamped": res.Stamped, "applied": applied}
}
