package cli

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ratchetdb/ratchet"
)

// The rolling-upgrade commands: the phases of the versions that have them, run while the old
// and the new release of a service share the database.

// phaseFlags are the flags of db expand and db contract.
type phaseFlags struct {
	syncFlags
	ddlWait time.Duration
}

func (f *phaseFlags) register(cmd *cobra.Command, backup bool) {
	f.registerRecovery(cmd)
	cmd.Flags().BoolVar(&f.skipSanityCheck, "skip-sanity-check", false, "do not check that MySQL/MariaDB tables have a utf8 collation")
	cmd.Flags().DurationVar(&f.ddlWait, "ddl-lock-timeout", 5*time.Second, "how long a statement waits for a table lock the running service holds before it gives up, to be tried again (5 attempts); 0 waits as long as the database lets it (PostgreSQL, MySQL/MariaDB)")
	if backup {
		cmd.Flags().StringVar(&f.backupDir, "backup-dir", "", "when there is anything to expand, first write a verified backup to DIR: the last moment only the old release wrote (default: [ratchet] backup_dir from the config file)")
	}
}

func newDBExpandCmd(g *globals) *cobra.Command {
	var f phaseFlags
	cmd := &cobra.Command{
		Use:   "expand [VERSION]",
		Short: "Run the expand phase of the next rolling upgrade (the old release keeps running)",
		Long: `Run the expand phase of the next rolling upgrade: the expand part of each version of the
window, online blocks included (the triggers that keep the old and the new columns in step),
each in its own transaction with its record (journalled statement by statement on
MySQL/MariaDB). The version table does not move: the old release keeps seeing its version.

The window is the rolling versions after the current one, up to the version before the next
-- ratchet:barrier or version without phases; VERSION stops it earlier. An open window is
continued; another target while one is open is refused (exit 1), as is a version without
phases next (apply it offline with db sync VERSION, exit 1).

Next: db migrate, then (once every node runs the new release) db contract.`,
		Example: "  ratchet db expand\n  ratchet db expand 13\n  ratchet db expand --resume   # after a part stopped part way on MySQL",
		Args:    maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.version = argOr(args, 0, "")
			return runSchemaPhase(cmd, g, "expand", f)
		},
	}
	f.register(cmd, true)
	return cmd
}

func newDBMigrateCmd(g *globals) *cobra.Command {
	var f phaseFlags
	var batchSize int
	var batchDelay, maxDuration time.Duration
	var maxRows int64
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Run the data migrations of the open rolling upgrade, in batches",
		Long: `Run the data migrations of the open rolling upgrade, after db expand: each version's
migrate part in batches, each batch committed together with its checkpoint, so a stopped run
(a limit, a crash, Ctrl-C) resumes after the last committed batch. A migrate script with
-- ratchet:repeat runs its statement until it changes no row; -- ratchet:pending SELECT …
says whether rows remain, asked at the end of each part, by db contract and by db check.

Exit codes: 0 every data migration is done; 4 a limit (--max-rows, --max-duration) stopped the
run with work left, or rows remain after a full sweep: run it again; 1 before db expand.`,
		Example: "  ratchet db migrate\n  ratchet db migrate --max-rows 100000 --batch-delay 50ms\n  until ratchet db migrate --max-duration 10m; do [ $? -eq 4 ] || exit 1; done",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case batchSize < 1:
				return usageErrorf("--batch-size=%d: want at least 1", batchSize)
			case maxRows < 0:
				return usageErrorf("--max-rows=%d: want 0 (no limit) or more", maxRows)
			case batchDelay < 0 || maxDuration < 0:
				return usageErrorf("--batch-delay and --max-duration cannot be negative")
			}
			f.extra = []ratchet.UpgradeOption{ratchet.BatchSize(batchSize), ratchet.BatchDelay(batchDelay),
				ratchet.MaxRows(maxRows), ratchet.MaxDuration(maxDuration)}
			return runPhase(cmd, g, "migrate", f.syncFlags)
		},
	}
	cmd.Flags().IntVar(&batchSize, "batch-size", 1000, "rows per batch of a Go data migration (SQL ones write their limit in their statement)")
	cmd.Flags().DurationVar(&batchDelay, "batch-delay", 0, "pause between batches, leaving the database to the service")
	cmd.Flags().Int64Var(&maxRows, "max-rows", 0, "stop once this run changed at least N rows (exit 4 if work remains); 0 for no limit")
	cmd.Flags().DurationVar(&maxDuration, "max-duration", 0, "stop once this run took D (exit 4 if work remains); 0 for no limit")
	cmd.Flags().BoolVar(&f.skipSanityCheck, "skip-sanity-check", false, "do not check that MySQL/MariaDB tables have a utf8 collation")
	f.registerRecovery(cmd)
	return cmd
}

func newDBContractCmd(g *globals) *cobra.Command {
	var f phaseFlags
	cmd := &cobra.Command{
		Use:   "contract",
		Short: "Run the contract phase of the open rolling upgrade (once only the new release runs)",
		Long: `Run the contract phase of the open rolling upgrade, once every node runs the new release
and the data migrations are done (every -- ratchet:pending query is asked again): each
version's contract part, online blocks included, moves the version table to that version in
the same transaction (journalled on MySQL/MariaDB); the last one closes the window.

Refused (exit 1) before db expand, or while a data migration is incomplete.`,
		Example: "  ratchet db contract",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSchemaPhase(cmd, g, "contract", f)
		},
	}
	f.register(cmd, false)
	return cmd
}

// runSchemaPhase runs db expand or db contract, the phases that change the schema.
func runSchemaPhase(cmd *cobra.Command, g *globals, phase string, f phaseFlags) error {
	if f.ddlWait < 0 {
		return usageErrorf("--ddl-lock-timeout cannot be negative")
	}
	f.extra = []ratchet.UpgradeOption{ratchet.DDLLockTimeout(f.ddlWait)}
	return runPhase(cmd, g, phase, f.syncFlags)
}

// registerRecovery adds the flags that continue a part that stopped part way.
func (f *phaseFlags) registerRecovery(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.resume, "resume", false, "continue a part that stopped part way after its last applied statement (MySQL/MariaDB, no-transaction scripts)")
	cmd.Flags().BoolVar(&f.retry, "retry", false, "run a part that stopped part way again from its first statement")
	cmd.Flags().StringVar(&f.inFlight, "in-flight", "", "with --resume, whether the statement that was running when the part was interrupted took effect: completed or not-completed")
}

// argOr returns args[i], or def.
func argOr(args []string, i int, def string) string {
	if i < len(args) {
		return args[i]
	}
	return def
}

// runPhase runs one phase command.
func runPhase(cmd *cobra.Command, g *globals, phase string, f syncFlags) error {
	ctx := cmd.Context()
	target, err := parseTarget(f.version)
	if err != nil {
		return err
	}
	opts, err := f.options()
	if err != nil {
		return err
	}
	opts = append(opts, f.extra...)
	s, err := g.openSession(ctx, true)
	if err != nil {
		return err
	}
	defer s.Close()
	if s.db.absent {
		// Check the request against an empty database before creating it, so that a
		// refused one creates nothing.
		m, err := g.migrator(s)
		if err != nil {
			return err
		}
		if _, err := m.PlanPhaseFrom(phase, 0, target, opts...); err != nil {
			return err
		}
		if err := s.db.create(ctx); err != nil {
			return err
		}
	}
	out := &upgradeOutput{g: g, json: s.json}
	m, err := g.migrator(s, ratchet.WithEvents(out.event))
	if err != nil {
		return err
	}
	var report runReport
	var bk *upgradeBackup
	if dir := pick(f.backupDir, s.backupDir); dir != "" && phase == "expand" {
		opts = append(opts, ratchet.BeforeApply(func(ctx context.Context, plan *ratchet.Plan, conn *sql.Conn) (err error) {
			if bk, err = g.backupBeforeUpgrade(ctx, s, conn, plan.Current, dir); bk != nil {
				report.backup = bk.path
			}
			return err
		}))
	}
	var res *ratchet.Result
	switch phase {
	case "expand":
		res, err = m.Expand(ctx, target, opts...)
	case "migrate":
		res, err = m.Migrate(ctx, opts...)
	default:
		res, err = m.Contract(ctx, opts...)
	}
	doc := upgradeDoc(res, report)
	doc["phase"] = phase
	state, serr := m.State(context.WithoutCancel(ctx))
	if serr == nil {
		addState(doc, state)
	}
	if err != nil {
		if rows := rowsText(res); rows != "" && !s.json {
			fmt.Fprintln(g.stdout, rows)
		}
		if fd := failureDoc(m, err); fd != nil {
			doc["failure"] = fd
		}
		return withFields(bk.explain(err), doc)
	}
	// What the run moved, from where it stood once it held the lock: a run that waited for
	// another to finish says what it did itself.
	return g.print(s.settings, doc, phaseText(g, phase, res, res.Before, state))
}

// addState adds where the database stands to a JSON document.
func addState(doc map[string]any, st ratchet.SchemaState) {
	doc["version"], doc["expanded"], doc["migrated"], doc["target"] = st.Version, st.Expanded, st.Migrated, st.Target
	doc["window"] = st.Window
	doc["next_phase"] = st.Phase()
}

// phaseText is what a phase command says when it succeeds.
func phaseText(g *globals, phase string, res *ratchet.Result, before, st ratchet.SchemaState) string {
	switch phase {
	case "expand":
		switch {
		case st.Expanded > before.Expanded:
			return fmt.Sprintf("Expanded database to %d (version %d); next: %s db migrate", st.Expanded, st.Version, g.app.name)
		case st.Window:
			return fmt.Sprintf("Database expansion is up to date (expanded to %d); next: %s db %s", st.Expanded, g.app.name, st.Phase())
		}
		return "Database is up to date."
	case "migrate":
		if text := rowsText(res); text != "" {
			return text + fmt.Sprintf("; next: %s db contract", g.app.name)
		}
		if st.Window {
			return fmt.Sprintf("Database migration is up to date; next: %s db contract", g.app.name)
		}
		return "Database migration is up to date."
	}
	if st.Version > res.Start {
		return fmt.Sprintf("Contracted database to %d.", st.Version)
	}
	return "Database is up to date."
}

// rowsText says how many rows a migrate run changed, per version: "Migrated 48210 rows (v11
// 30000, v12 18210)"; "" when no data migration ran.
func rowsText(res *ratchet.Result) string {
	var total int64
	var parts []string
	for _, a := range res.Applied {
		if a.Phase == "migrate" {
			total += a.Rows
			parts = append(parts, fmt.Sprintf("v%d %d", a.Version, a.Rows))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("Migrated %s (%s)", rowsCount(total), strings.Join(parts, ", "))
}

// rowsCount is "1 row" or "n rows".
func rowsCount(n int64) string {
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}
