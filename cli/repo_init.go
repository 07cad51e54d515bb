package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ratchetdb/ratchet/repository"
)

type repoInitFlags struct{ id string }

func newRepoInitCmd(g *globals) *cobra.Command {
	var f repoInitFlags
	cmd := &cobra.Command{
		Use:   "init DIR --id ID",
		Short: "Create a new repository: DIR/migrate.cfg and DIR/versions/",
		Long: `Create a new, empty repository in DIR (which must not exist or be empty), with a
migrate.cfg as sqlalchemy-migrate writes it. ID is the repository_id recorded in the version
table; it names the repository, so keep it stable.`,
		Example: `  ratchet repo init migrations --id "Glance Migrations"`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.resolve()
			if err != nil {
				return err
			}
			if f.id == "" {
				return usageErrorf("repo init: --id is required (the repository_id, e.g. --id \"Glance Migrations\")")
			}
			if err := repository.Init(args[0], f.id); err != nil {
				return usageError(err)
			}
			doc := map[string]any{"path": args[0], "repository_id": f.id}
			return g.print(s, doc, fmt.Sprintf("created repository %q in %s", f.id, args[0]))
		},
	}
	cmd.Flags().StringVar(&f.id, "id", "", "repository_id (required)")
	return cmd
}

type repoNewFlags struct{ dbms string }

func newRepoNewCmd(g *globals) *cobra.Command {
	var f repoNewFlags
	cmd := &cobra.Command{
		Use:   "new DESCRIPTION [--dbms DBMS]",
		Short: "Create the next version's upgrade script",
		Long: `Create versions/NNN_<description>_<dbms>_upgrade.sql with NNN the next version number
(or a UTC timestamp when migrate.cfg sets use_timestamp_numbering). DBMS is default (runs on
every database unless a database-specific script exists), sqlite, postgresql or mysql.`,
		Example: `  ratchet repo new "add image tags"
  ratchet repo new "add image tags" --dbms sqlite`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.resolve()
			if err != nil {
				return err
			}
			if _, err := g.loadRepository(s); err != nil {
				return err
			}
			path, err := repository.NewScript(s.repository, args[0], f.dbms, time.Now())
			if err != nil {
				return usageError(err)
			}
			return g.print(s, map[string]any{"path": path}, path)
		},
	}
	cmd.Flags().StringVar(&f.dbms, "dbms", "default", "database the script is for: default, sqlite, postgresql or mysql")
	return cmd
}

func newRepoVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the repository's latest version",
		Example: "  ratchet repo version",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := g.resolve()
			if err != nil {
				return err
			}
			repo, err := g.loadRepository(s)
			if err != nil {
				return err
			}
			doc := map[string]any{"latest": repo.Latest(), "repository_id": repo.ID()}
			return g.print(s, doc, fmt.Sprint(repo.Latest()))
		},
	}
}
