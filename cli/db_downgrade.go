package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ratchetdb/ratchet"
)

func newDBDowngradeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "downgrade [VERSION]",
		Short: "Refused: downgrades are not supported; restore a backup instead",
		Long: `Downgrades are not supported, as in the legacy glance-manage since Mitaka: downgrade
scripts cannot undo data changes safely. The way back from a bad upgrade is to restore the
backup taken before it. This command always exits 2 and touches nothing.`,
		Example: fmt.Sprintf(`  %[1]s db backup --dir /var/backups/glance     # before upgrading (or db sync --backup-dir)
  %[1]s db restore /var/backups/glance/glance-v41-20250301T101500Z.ratchet-backup --yes`, g.app.name),
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErrorf("%v: ratchet only moves forward; to go back, restore the database from the backup taken before the upgrade, then run %s db sync with the release you want", ratchet.ErrDowngrade, g.app.name)
		},
	}
}
