package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ratchetdb/ratchet"
)

func newDBStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show every version: applied, pending, modified or missing",
		Long: `Show every version of the repository: applied (with when, if ratchet applied it),
pending, modified (applied, but its script changed since) or missing (applied, but its script
is gone from the repository). Writes nothing.`,
		Example: "  ratchet db status\n  ratchet db status --output json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, st, err := g.status(cmd)
			if err != nil {
				return err
			}
			defer s.Close()
			return g.print(s.settings, statusDoc(s, st), statusText(s, st))
		},
	}
}

// status opens a session and reads the status; the caller closes the session.
func (g *globals) status(cmd *cobra.Command) (*session, *ratchet.Status, error) {
	s, err := g.openSession(cmd.Context(), false)
	if err != nil {
		return nil, nil, err
	}
	m, err := g.migrator(s)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	st, err := m.Status(cmd.Context())
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, st, nil
}

func statusText(s *session, st *ratchet.Status) string {
	var b strings.Builder
	if ahead(st) {
		fmt.Fprintf(&b, "repository %q: database at version %d, ahead of this repository (latest %d): a newer release already upgraded it; upgrade it with that release's repository (going back means restoring a backup)\n", s.repo.ID(), st.Version, st.Latest)
	} else {
		fmt.Fprintf(&b, "repository %q: database at version %d of %d (%d pending)\n", s.repo.ID(), st.Version, st.Latest, st.Pending())
	}
	if st.SchemaUpgradeMethod != "" {
		fmt.Fprintf(&b, "Galera cluster node: DDL replicates by %s (wsrep_OSU_method)%s\n", st.SchemaUpgradeMethod, osuNote(st.SchemaUpgradeMethod))
	}
	if st.Lock == ratchet.LockLease {
		fmt.Fprintf(&b, "migration lock: a lease in %s, held while renewed (--lease-duration)\n", "ratchet_lock")
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATE\tAPPLIED AT\tSCRIPT")
	for _, v := range st.Versions {
		if v.Phases == nil {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", v.Version, v.State, appliedAt(v), v.Script)
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", v.Version, v.State, appliedAt(v), "rolling: "+phaseSummary(v.Phases))
		for _, p := range v.Phases {
			script := p.Script
			if script == "" {
				script = "(nothing for this database)"
			}
			at := "-"
			if !p.AppliedAt.IsZero() {
				at = p.AppliedAt.UTC().Format(time.DateTime)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p.Phase, p.State, at, script)
		}
	}
	tw.Flush()
	if v := st.Stopped(); v != nil {
		fmt.Fprintf(&b, "%s\n", oneLine(v.Detail))
	}
	return strings.TrimRight(b.String(), "\n")
}

// osuNote says what a Galera schema-upgrade method means for a migration.
func osuNote(method string) string {
	if strings.EqualFold(method, "TOI") {
		return ": each DDL statement runs on every node, in the same order"
	}
	return ": DDL would change this node only, so ratchet refuses to migrate through it"
}

func appliedAt(v ratchet.VersionStatus) string {
	switch {
	case v.State == ratchet.Pending || v.State == ratchet.Stopped || v.State == ratchet.Running:
		return "-"
	case v.AppliedAt.IsZero():
		return "unknown"
	}
	return v.AppliedAt.UTC().Format(time.DateTime)
}

func statusDoc(s *session, st *ratchet.Status) map[string]any {
	versions := make([]map[string]any, 0, len(st.Versions))
	for _, v := range st.Versions {
		doc := map[string]any{"version": v.Version, "state": v.State, "script": v.Script, "checksum": v.Checksum}
		if v.Detail != "" {
			doc["detail"] = v.Detail
		}
		if v.AppliedChecksum != "" {
			doc["applied_checksum"] = v.AppliedChecksum
		}
		if !v.AppliedAt.IsZero() {
			doc["applied_at"] = v.AppliedAt.UTC().Format(time.RFC3339)
		}
		if v.Phases != nil {
			phases := make([]map[string]any, 0, len(v.Phases))
			for _, p := range v.Phases {
				pd := map[string]any{"phase": p.Phase, "state": p.State, "script": p.Script, "checksum": p.Checksum}
				if p.AppliedChecksum != "" {
					pd["applied_checksum"] = p.AppliedChecksum
				}
				if !p.AppliedAt.IsZero() {
					pd["applied_at"] = p.AppliedAt.UTC().Format(time.RFC3339)
				}
				phases = append(phases, pd)
			}
			doc["phases"] = phases
		}
		versions = append(versions, doc)
	}
	doc := map[string]any{
		"repository_id": s.repo.ID(), "controlled": st.Controlled, "version": st.Version,
		"latest": st.Latest, "pending": st.Pending(), "ahead": ahead(st), "versions": versions,
	}
	if st.Lock != ratchet.LockAuto {
		doc["lock"] = st.Lock.String()
	}
	if st.SchemaUpgradeMethod != "" {
		doc["schema_upgrade_method"] = st.SchemaUpgradeMethod
	}
	return doc
}

// ahead reports a database at a version beyond the repository's latest: a newer release
// applied versions this repository does not have.
func ahead(st *ratchet.Status) bool { return st.Controlled && st.Version > st.Latest }

// phaseSummary says in a few words how far a rolling version's phases went: "expand applied,
// migrate pending, contract pending".
func phaseSummary(ps []ratchet.PhaseStatus) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Phase + " " + string(p.State)
	}
	return strings.Join(parts, ", ")
}
