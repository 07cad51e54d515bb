package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

type versionControlFlags struct{ version string }

func newDBVersionControlCmd(g *globals) *cobra.Command {
	var f versionControlFlags
	cmd := &cobra.Command{
		Use:   "version_control [VERSION]",
		Short: "Put an existing database under version control at VERSION (default 0)",
		Long: `Put the database under version control at VERSION (default 0): create the
migrate_version table if needed and record VERSION for this repository.

This is how a database whose schema already matches a version is taken over. It does not check
the schema. It refuses a database already under version control (exit 1) and a version the
repository does not have (exit 2).`,
		Example: "  ratchet db version_control 12\n  ratchet db version_control --version 12",
		Args:    versionArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				f.version = args[0]
			}
			return runDBVersionControl(cmd, g, f)
		},
	}
	cmd.Flags().StringVar(&f.version, "version", "", "the version to record (legacy spelling of the VERSION argument)")
	return cmd
}

func runDBVersionControl(cmd *cobra.Command, g *globals, f versionControlFlags) error {
	v, err := parseVersion("version", f.version, 0)
	if err != nil {
		return err
	}
	s, err := g.openSession(cmd.Context(), true)
	if err != nil {
		return err
	}
	defer s.Close()
	absent := s.db.absent
	if err := stampAt(cmd, g, s, v); err != nil {
		return err
	}
	doc := map[string]any{"version": v, "repository_id": s.repo.ID()}
	if absent {
		doc["created_database"] = s.db.url.String()
	}
	return g.print(s.settings, doc, fmt.Sprintf("database is now under version control at version %d", v))
}

// stampAt runs version_control on the session's database, creating a missing SQLite file
// only after the version was found valid.
func stampAt(cmd *cobra.Command, g *globals, s *session, v int) error {
	m, err := g.migrator(s)
	if err != nil {
		return err
	}
	if s.db.absent {
		// Check the version before creating the database, so that a bad one creates nothing.
		if _, err := m.PlanFrom(v, v); err != nil {
			return err
		}
		if err := s.db.create(cmd.Context()); err != nil {
			return err
		}
		if m, err = g.migrator(s); err != nil {
			return err
		}
	}
	return m.VersionControl(cmd.Context(), v)
}
