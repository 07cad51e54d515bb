package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newDBCheckCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Exit 0 if up to date, 3 if versions are pending, 1 if an applied script was modified or is missing",
		Long: `Check the database against the repository without changing anything.

Exit codes: 0 up to date; 3 versions are pending (run db sync); 1 an applied script was
modified or removed since it was applied (each is listed with its file and both checksums),
or a version stopped part way and needs db sync --resume or --retry.`,
		Example: "  ratchet db check && echo up to date",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, st, err := g.status(cmd)
			if err != nil {
				return err
			}
			defer s.Close()
			drifted := st.Drifted()
			code, text := ExitOK, fmt.Sprintf("database is up to date at version %d", st.Version)
			switch {
			case st.Stopped() != nil:
				code, text = ExitFailed, st.Stopped().Detail
			case len(drifted) > 0:
				code = ExitFailed
				lines := []string{fmt.Sprintf("%d applied script(s) changed since they were applied:", len(drifted))}
				for _, v := range drifted {
					lines = append(lines, fmt.Sprintf("  version %d %s: %s (applied %s, now %s)", v.Version, v.State, v.Script, orUnknown(v.AppliedChecksum), orUnknown(v.Checksum)))
				}
				text = strings.Join(lines, "\n")
			case st.Version > st.Latest:
				code, text = ExitFailed, fmt.Sprintf("database is at version %d, ahead of the repository's latest version %d (an older release of the repository?)", st.Version, st.Latest)
			case st.Pending() > 0:
				code = ExitPending
				text = fmt.Sprintf("database is at version %d, %d version(s) pending up to %d: run %s db sync", st.Version, st.Pending(), st.Latest, g.app.name)
			}
			doc := statusDoc(s, st)
			doc["exit_code"] = code
			if err := g.print(s.settings, doc, text); err != nil {
				return err
			}
			if code != ExitOK {
				return &silentExit{code: code}
			}
			return nil
		},
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
