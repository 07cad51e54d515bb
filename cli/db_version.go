package cli

import (
	"strconv"

	"github.com/spf13/cobra"
)

func newDBVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the database's current version",
		Long: `Print the database's current version: an integer, alone on stdout.

An empty database (no tables but the bookkeeping ones) is at version 0; nothing is written.
A database with tables but not under version control is an error (exit 1): stamp it first
with db version_control.`,
		Example: "  ratchet db version\n  ratchet --database sqlite:///glance.sqlite db version --output json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDBVersion(cmd, g)
		},
	}
}

func runDBVersion(cmd *cobra.Command, g *globals) error {
	s, err := g.openSession(cmd.Context(), false)
	if err != nil {
		return err
	}
	defer s.Close()
	m, err := g.migrator(s)
	if err != nil {
		return err
	}
	v, err := m.Version(cmd.Context())
	if err != nil {
		return err
	}
	doc := map[string]any{"version": v, "latest": s.repo.Latest(), "repository_id": s.repo.ID(), "database": s.db.url.String()}
	if s.json {
		// Where a rolling upgrade stands; the text output stays the version alone.
		st, err := m.State(cmd.Context())
		if err != nil {
			return err
		}
		doc["expanded"], doc["migrated"], doc["target"], doc["phase"] = st.Expanded, st.Migrated, st.Target, st.Phase()
	}
	return g.print(s.settings, doc, strconv.Itoa(v))
}
