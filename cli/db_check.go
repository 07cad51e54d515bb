package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ratchetdb/ratchet"
)

func newDBCheckCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Exit 0 if up to date, 3 if an upgrade or expand is next, 4 migrate, 5 contract, 1 if scripts changed",
		Long: `Check the database against the repository without changing anything.

Exit codes (the first that applies): 1 an applied script was modified or removed since it was
applied (each is listed with its file and both checksums), a version stopped part way and
needs --resume or --retry, or an open rolling upgrade contradicts the version table; 0 up to
date; 3 versions are pending: run db sync (versions without phases) or, for rolling versions,
db expand; 4 a rolling upgrade's data migration has work left: run db migrate; 5 its contract
phase is next: run db contract.`,
		Example: "  ratchet db check && echo up to date\n  ratchet db check; case $? in 3) ratchet db expand;; 4) ratchet db migrate;; 5) ratchet db contract;; esac",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, st, err := g.status(cmd)
			if err != nil {
				return err
			}
			defer s.Close()
			m, err := g.migrator(s)
			if err != nil {
				return err
			}
			next, err := m.Next(cmd.Context())
			if err != nil {
				return err
			}
			code, status, text := checkResult(g, st, next)
			doc := statusDoc(s, st)
			doc["exit_code"], doc["exit"], doc["status"] = code, code, status
			doc["expanded"], doc["migrated"], doc["target"] = next.State.Expanded, next.State.Migrated, next.State.Target
			doc["pending_data"] = next.Pending
			if len(next.MissingTriggers) > 0 {
				doc["missing_triggers"] = next.MissingTriggers
			}
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

// checkResult is db check's exit code, its status word and its text.
func checkResult(g *globals, st *ratchet.Status, next *ratchet.Next) (int, string, string) {
	drifted := st.Drifted()
	switch {
	case st.Stopped() != nil:
		return ExitFailed, "stopped", st.Stopped().Detail
	case len(drifted) > 0:
		lines := []string{fmt.Sprintf("%d applied script(s) changed since they were applied:", len(drifted))}
		for _, v := range drifted {
			lines = append(lines, fmt.Sprintf("  version %d %s: %s (applied %s, now %s)", v.Version, v.State, v.Script, orUnknown(v.AppliedChecksum), orUnknown(v.Checksum)))
		}
		return ExitFailed, "modified", strings.Join(lines, "\n")
	case st.Version > st.Latest:
		return ExitFailed, "ahead", fmt.Sprintf("database is at version %d, ahead of the repository's latest version %d (an older release of the repository?)", st.Version, st.Latest)
	case next.Broken != "":
		return ExitFailed, "broken", next.Broken
	case len(next.MissingTriggers) > 0:
		return ExitFailed, "trigger_missing", fmt.Sprintf("the rolling upgrade to version %d relies on triggers that are missing or disabled, so the old and the new release no longer see the same data: %s; create them again as the expand script does",
			next.State.Target, strings.Join(next.MissingTriggers, ", "))
	}
	name := g.app.name
	switch next.Step {
	case "upgrade":
		o := next.Offline
		return ExitPending, "upgrade", fmt.Sprintf("database is at version %d, %d version(s) pending up to %d: run %s db sync (%s)",
			st.Version, st.Pending(), st.Latest, name, o.Error())
	case "expand":
		return ExitPending, "expand", fmt.Sprintf("Your database is not up to date (version %d of %d). Your first step is to run `%s db expand`.", st.Version, st.Latest, name)
	case "migrate":
		return ExitDataMigration, "migrate", fmt.Sprintf("Your database is not up to date (version %d, expanded to %d, migrated to %d). Your next step is to run `%s db migrate`.",
			st.Version, next.State.Expanded, next.State.Migrated, name)
	case "contract":
		return ExitContract, "contract", fmt.Sprintf("Your database is not up to date (version %d, expanded and migrated to %d). Your next step is to run `%s db contract`.",
			st.Version, next.State.Migrated, name)
	}
	return ExitOK, "up_to_date", fmt.Sprintf("database is up to date at version %d", st.Version)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
