package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ratchetdb/ratchet/internal/dburl"
	"github.com/ratchetdb/ratchet/repository"
)

// App is a ratchet command line: the `db` and `repo` command trees with their global options.
// A service builds its own `<service>-manage` from it with [WithName] and an embedded
// repository ([WithRepository]); cmd/ratchet is the general-purpose one.
type App struct {
	name      string
	version   string
	repo      *repository.Repository // embedded repository, if any
	defaultDB string
	drivers   []Driver
}

// Option configures an [App].
type Option func(*App)

// WithName sets the program name used in help, messages and suggested commands
// (default "ratchet").
func WithName(name string) Option { return func(a *App) { a.name = name } }

// WithVersion sets the version printed by --version.
func WithVersion(v string) Option { return func(a *App) { a.version = v } }

// WithRepository embeds the repository: the --repository option and the `repo init` and
// `repo new` commands, which act on a directory, are not offered.
func WithRepository(r *repository.Repository) Option { return func(a *App) { a.repo = r } }

// WithDefaultDatabase sets the database URL used when neither --database, RATCHET_DATABASE
// nor a config file gives one (default "sqlite:///ratchet.sqlite").
func WithDefaultDatabase(url string) Option { return func(a *App) { a.defaultDB = url } }

// WithDrivers sets the database drivers the command line opens databases with, one per
// dialect: the packages under drivers/ (sqlitedriver, pgxdriver, mysqldriver). A database
// whose dialect has none is refused with a message naming the package to import.
func WithDrivers(ds ...Driver) Option { return func(a *App) { a.drivers = append(a.drivers, ds...) } }

// New returns an App.
func New(opts ...Option) *App {
	a := &App{name: "ratchet", version: "dev", defaultDB: "sqlite:///ratchet.sqlite"}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Run runs the command line args (without the program name) and returns the process exit
// code (see [ExitOK] and the other Exit constants). Errors are written to stderr as one line
// `<name>: <message>` with passwords redacted; with --output json a JSON document describing
// the error is also written to stdout. Cancelling ctx (Ctrl-C) rolls back the running version
// and returns [ExitInterrupted].
func (a *App) Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{app: a, stdout: stdout, stderr: stderr}
	root := a.command(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCode(ctx, err)
	var silent *silentExit
	if errors.As(err, &silent) {
		return code
	}
	msg := oneLine(dburl.Redact(err.Error() + hint(err)))
	if code == ExitInterrupted && !strings.Contains(msg, "interrupted") {
		// Cancelled before the engine had anything to say about it (while connecting).
		msg = "interrupted: " + msg
	}
	fmt.Fprintf(stderr, "%s: %s\n", a.name, msg)
	if g.output == "json" {
		doc := map[string]any{}
		for k, v := range errorFields(err) {
			doc[k] = v
		}
		doc["error"], doc["exit_code"] = msg, code
		writeJSON(stdout, doc)
	}
	return code
}

// command builds the command tree.
func (a *App) command(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   a.name,
		Short: "Forward-only database schema migrations (sqlalchemy-migrate compatible)",
		Long: a.name + ` manages a database schema as a numbered, forward-only series of versions kept in a
sqlalchemy-migrate repository (migrate.cfg and versions/NNN_description_dbms_upgrade.sql).
It reads and writes the legacy migrate_version table, so databases managed by
sqlalchemy-migrate can be taken over as they are. Downgrades are refused: the way back is
restoring a backup.`,
		Example: fmt.Sprintf(`  %[1]s db sync                         # bring the database to the latest version
  %[1]s --database postgresql://glance@db/glance db version
  %[1]s db status --output json`, a.name),
		Version:       a.version,
		SilenceErrors: true,
		SilenceUsage:  true,
		// With Args set, cobra parses the flags before rejecting an unknown command, so
		// `--output json bogus` gets its JSON error document and exit 2 like any bad input.
		Args: noArgs,
		RunE: helpOnly,
	}
	root.SetFlagErrorFunc(flagError)
	g.register(root.PersistentFlags())

	db := &cobra.Command{
		Use:   "db",
		Short: "Inspect and upgrade the database",
		Example: fmt.Sprintf(`  %[1]s db sync --dry-run    # show what an upgrade would run; change nothing
  %[1]s db sync              # bring the database to the latest version
  %[1]s db version           # the current version, alone on stdout
  %[1]s db status            # every version: applied, pending, modified or missing
  %[1]s db check             # exit 0 up to date, 3 expand/sync needed, 4 migrate, 5 contract, 1 scripts modified
  %[1]s db expand            # rolling upgrade: expand while the old release runs; then db migrate, db contract`, a.name),
		Args: noArgs,
		RunE: helpOnly,
	}
	dbCmds := []*cobra.Command{
		newDBVersionCmd(g), newDBVersionControlCmd(g), newDBSyncCmd(g), newDBUpgradeCmd(g),
		newDBDowngradeCmd(g), newDBStatusCmd(g), newDBCheckCmd(g), newDBBackupCmd(g), newDBRestoreCmd(g),
		newDBExpandCmd(g), newDBMigrateCmd(g), newDBContractCmd(g),
	}
	db.AddCommand(dbCmds...)
	root.AddCommand(db, a.repoCommand(g))

	// Legacy spellings: `glance-manage db_sync`, `db_version`, `db_upgrade`, `db_version_control`,
	// and the rolling upgrades' `db_expand`, `db_migrate`, `db_contract`.
	for _, c := range []*cobra.Command{newDBVersionCmd(g), newDBVersionControlCmd(g), newDBSyncCmd(g), newDBUpgradeCmd(g),
		newDBExpandCmd(g), newDBMigrateCmd(g), newDBContractCmd(g)} {
		c.Use = "db_" + c.Use
		c.Hidden = true
		c.Short += " (legacy spelling of `db " + strings.TrimPrefix(strings.Fields(c.Use)[0], "db_") + "`)"
		root.AddCommand(c)
	}
	return root
}

func (a *App) repoCommand(g *globals) *cobra.Command {
	repo := &cobra.Command{
		Use:   "repo",
		Short: "Create and inspect the migration repository",
		Example: fmt.Sprintf(`  %[1]s repo version         # the repository's latest version
  %[1]s repo lint            # validate the repository`, a.name),
		Args: noArgs,
		RunE: helpOnly,
	}
	if a.repo == nil {
		repo.Example = fmt.Sprintf(`  %[1]s repo init migrations --id "My Service"
  %[1]s repo new "create images"   # migrations/versions/001_create_images_default_upgrade.sql
`, a.name) + repo.Example
	}
	if a.repo == nil {
		repo.AddCommand(newRepoInitCmd(g), newRepoNewCmd(g))
	}
	repo.AddCommand(newRepoVersionCmd(g), newRepoLintCmd(g))
	return repo
}

func helpOnly(cmd *cobra.Command, _ []string) error { return cmd.Help() }

// noArgs rejects positional arguments as a usage error (exit 2).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		if !cmd.HasParent() {
			return usageErrorf("unknown command %q (see %s --help)", args[0], cmd.CommandPath())
		}
		return usageErrorf("%s: unknown command or argument %q (see %s --help)", subPath(cmd), args[0], cmd.CommandPath())
	}
	return nil
}

// maxArgs rejects more than n positional arguments as a usage error.
func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usageErrorf("%s takes at most %d argument(s), got %d: %s", subPath(cmd), n, len(args), strings.Join(args, " "))
		}
		return nil
	}
}

// exactArgs requires exactly n positional arguments.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s takes %d argument(s), got %d (usage: %s)", subPath(cmd), n, len(args), cmd.UseLine())
		}
		return nil
	}
}

// subPath is the command's path without the program name, which every error line already
// starts with: "db sync", not "ratchet db sync".
func subPath(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// oneLine folds a multi-line message (driver errors often have a DETAIL line) into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// flagError turns flag parsing errors into usage errors, recognising a negative version
// number that the parser took for a flag.
func flagError(_ *cobra.Command, err error) error {
	if m := negativeFlag.FindStringSubmatch(err.Error()); m != nil {
		return usageErrorf("invalid version %s: version numbers cannot be negative", m[1])
	}
	return usageErrorf("%v", err)
}
