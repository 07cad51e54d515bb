package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newRepoLintCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "lint",
		Short: "Validate the repository and list the files it ignores",
		Long: `Load the repository with every check the commands make (exit 2 on the first error)
and report what is legal but suspicious: files the loader ignores (fewer than 3 leading digits,
another extension), gaps in numbering, versions with only a Python script, operations other
than upgrade/downgrade/expand/migrate/contract, empty scripts. Exit 1 when a finding is an
error, else 0.`,
		Example: "  ratchet repo lint\n  ratchet --repository glance/db/migrate_repo repo lint --output json",
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
			findings := repo.Lint()
			errs := 0
			docs := make([]map[string]any, 0, len(findings))
			var lines []string
			for _, f := range findings {
				if f.Severity == "error" {
					errs++
				}
				docs = append(docs, map[string]any{"path": f.Path, "severity": f.Severity, "message": f.Message})
				lines = append(lines, fmt.Sprintf("%s: %s: %s", f.Path, f.Severity, f.Message))
			}
			lines = append(lines, fmt.Sprintf("repository %q: latest version %d, %d finding(s), %d error(s)", repo.ID(), repo.Latest(), len(findings), errs))
			doc := map[string]any{"repository_id": repo.ID(), "latest": repo.Latest(), "findings": docs, "errors": errs}
			if err := g.print(s, doc, strings.Join(lines, "\n")); err != nil {
				return err
			}
			if errs > 0 {
				return &silentExit{code: ExitFailed}
			}
			return nil
		},
	}
}
