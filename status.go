package ratchet

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"github.com/ratchetdb/ratchet/internal/versiontable"
	"github.com/ratchetdb/ratchet/repository"
)

// State is the state of one version in a [Status].
type State string

// The states of a version.
const (
	Applied  State = "applied"  // recorded as applied; the script is unchanged or its checksum unknown
	Pending  State = "pending"  // not applied yet
	Modified State = "modified" // applied, but the script changed since
	Missing  State = "missing"  // applied, but the script is no longer in the repository
	Stopped  State = "stopped"  // stopped part way; needs [Resume] or [Retry]
	Running  State = "running"  // being applied by another run now
	// Unapplied: below the current version, but the history says it never ran (added out of
	// order).
	Unapplied State = "unapplied"
)

// Status is the state of every version of the repository in the database.
type Status struct {
	Controlled bool // the database has a row for the repository
	Version    int  // the current version
	Latest     int  // the repository's latest version
	Versions   []VersionStatus
	// Lock is the migration lock an upgrade takes here: [LockAdvisory] or [LockLease] on a
	// server, [LockAuto] on SQLite, whose file lock serialises writers.
	Lock LockMethod
	// SchemaUpgradeMethod is, on a node of a Galera cluster, how it replicates DDL
	// (wsrep_OSU_method): TOI runs each DDL statement on every node in the same order, RSU
	// on this node only. "" elsewhere.
	SchemaUpgradeMethod string
}

// VersionStatus is the state of one version.
type VersionStatus struct {
	Version int
	State   State
	Script  string // the script that runs (pending) or ran (applied) for this dialect
	// AppliedAt is when the version was applied; zero when the database was migrated by
	// another tool and ratchet has no history for it.
	AppliedAt time.Time
	// Checksum is the current script's checksum; AppliedChecksum the one recorded when it was
	// applied ("" when unknown).
	Checksum        string
	AppliedChecksum string
	// Detail explains a stopped version: where it stopped and why; Stop says it as data.
	Detail string
	Stop   *StoppedVersionError
	// Phases are, for a rolling version, its expand, migrate and contract parts, each with
	// its own state; nil for a version applied whole.
	Phases []PhaseStatus
}

// PhaseStatus is the state of one phase of a rolling version. A phase the version has
// nothing for on this dialect is [Applied] once the window moved past it, with no Script.
type PhaseStatus struct {
	Phase           string
	State           State
	Script          string
	Checksum        string
	AppliedChecksum string
	AppliedAt       time.Time
}

// Pending returns the number of versions not applied yet.
func (s *Status) Pending() int {
	n := 0
	for _, v := range s.Versions {
		if v.State == Pending || v.State == Stopped || v.State == Running {
			n++
		}
	}
	return n
}

// Stopped returns the version that stopped part way, if any.
func (s *Status) Stopped() *VersionStatus {
	for i, v := range s.Versions {
		if v.State == Stopped {
			return &s.Versions[i]
		}
	}
	return nil
}

// Drifted returns the versions whose state contradicts the history: applied scripts modified
// or missing, and versions below the current one that never ran.
func (s *Status) Drifted() []VersionStatus {
	var out []VersionStatus
	for _, v := range s.Versions {
		if v.State == Modified || v.State == Missing || v.State == Unapplied {
			out = append(out, v)
		}
	}
	return out
}

// Status reports every version: applied, pending, modified or missing. It writes nothing.
func (m *Migrator) Status(ctx context.Context) (*Status, error) {
	s, err := m.open(ctx, false)
	if err != nil {
		return nil, m.busy(err)
	}
	defer s.close(ctx)
	out, err := s.status(ctx)
	return out, m.busy(err)
}

func (s *session) status(ctx context.Context) (*Status, error) {
	m := s.m
	st, err := s.controlledState(ctx)
	if err != nil {
		return nil, err
	}
	// A journal row without a failure may belong to a run that is still going.
	st.running = st.journal != nil && st.journal.Error == "" && s.migrationRunning(ctx)
	// The latest history entry per version is the one that counts; per phase for the phases
	// of rolling versions.
	recorded := map[int]VersionStatus{}
	phases := map[int]map[string]versiontable.Entry{}
	if st.hasHistory {
		entries, err := s.table.History(ctx, s.conn)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			recorded[e.Version] = VersionStatus{Script: e.Script, AppliedAt: e.AppliedAt, AppliedChecksum: e.Checksum}
			if phases[e.Version] == nil {
				phases[e.Version] = map[string]versiontable.Entry{}
			}
			phases[e.Version][e.Phase] = e
		}
	}
	applied := slices.Sorted(maps.Keys(recorded))
	missing := m.outOfOrder(applied, st.version)
	out := &Status{Controlled: st.controlled, Version: st.version, Latest: m.repo.Latest()}
	out.Lock = s.lockMethod()
	if out.SchemaUpgradeMethod, err = s.schemaUpgradeMethod(ctx); err != nil {
		return nil, err
	}
	seen := map[int]bool{}
	for _, v := range m.repo.Versions() {
		seen[v] = true
		if m.repo.Rolling(v) {
			vs, err := m.rollingStatus(v, st, phases[v])
			if err != nil {
				return nil, err
			}
			out.Versions = append(out.Versions, vs)
			continue
		}
		vs := recorded[v]
		vs.Version = v
		script, ok, err := m.repo.Script(v, m.dialect.Name(), upgradeOperation)
		if err != nil {
			return nil, err
		}
		if ok {
			vs.Checksum = script.Checksum()
			if vs.Script == "" || v > st.version {
				vs.Script = script.Path
			}
		}
		switch {
		case st.running && st.journal.Version == v:
			vs = VersionStatus{Version: v, State: Running, Script: vs.Script, Checksum: vs.Checksum}
		case st.journal != nil && st.journal.Version == v:
			e := stoppedError(st.journal)
			vs = VersionStatus{Version: v, State: Stopped, Script: vs.Script, Checksum: vs.Checksum, Detail: e.Error(), Stop: e}
		case v > st.version:
			vs = VersionStatus{Version: v, State: Pending, Script: vs.Script, Checksum: vs.Checksum}
		case slices.Contains(missing, v):
			vs = VersionStatus{Version: v, State: Unapplied, Script: vs.Script, Checksum: vs.Checksum}
		case vs.Checksum == "":
			vs.State = Missing
		case vs.AppliedChecksum != "" && vs.AppliedChecksum != vs.Checksum:
			vs.State = Modified
		default:
			vs.State = Applied
		}
		out.Versions = append(out.Versions, vs)
	}
	// Applied versions whose every file was removed from the repository.
	for v, vs := range recorded {
		if !seen[v] && v <= st.version {
			vs.Version, vs.State = v, Missing
			out.Versions = append(out.Versions, vs)
		}
	}
	sortVersions(out.Versions)
	return out, nil
}

func sortVersions(vs []VersionStatus) {
	slices.SortFunc(vs, func(a, b VersionStatus) int { return cmp.Compare(a.Version, b.Version) })
}

// rollingStatus is the state of rolling version v: each phase's, from how far the window went
// and what the history recorded, and the version's as a whole.
func (m *Migrator) rollingStatus(v int, st state, recorded map[string]versiontable.Entry) (VersionStatus, error) {
	vs := VersionStatus{Version: v, State: Pending}
	done := map[string]bool{repository.OpExpand: v <= st.version, repository.OpMigrate: v <= st.version, repository.OpContract: v <= st.version}
	if w := st.window; w != nil {
		done[repository.OpExpand], done[repository.OpMigrate] = v <= w.Expanded, v <= w.Migrated
	}
	scripts, modified := 0, false
	for _, ph := range []string{repository.OpExpand, repository.OpMigrate, repository.OpContract} {
		ps := PhaseStatus{Phase: ph, State: Pending}
		script, ok, err := m.repo.Script(v, m.dialect.Name(), ph)
		if err != nil {
			return vs, err
		}
		if ok {
			ps.Script, ps.Checksum = script.Path, script.Checksum()
			scripts++
		}
		e, ran := recorded[ph]
		if ran {
			ps.AppliedChecksum, ps.AppliedAt = e.Checksum, e.AppliedAt
			if !ok {
				ps.Script = e.Script
			}
		}
		switch {
		case !done[ph]:
		case ran && !ok:
			ps.State = Missing
		case ps.AppliedChecksum != "" && ps.AppliedChecksum != ps.Checksum:
			ps.State, modified = Modified, true
		default:
			ps.State = Applied
		}
		if j := st.journal; j != nil && j.Version == v && j.Phase == ph {
			if st.running {
				ps.State = Running
			} else {
				e := stoppedError(j)
				ps.State, vs.Detail, vs.Stop = Stopped, e.Error(), e
			}
		}
		if vs.Script == "" {
			vs.Script = ps.Script
		}
		vs.Phases = append(vs.Phases, ps)
	}
	switch {
	case vs.Stop != nil:
		vs.State = Stopped
	case modified:
		// A phase that ran, also in an open window, was edited since.
		vs.State = Modified
	case v > st.version:
	case scripts == 0 && len(recorded) > 0:
		vs.State = Missing
	default:
		vs.State = Applied
		if e, ok := recorded[repository.OpContract]; ok {
			vs.AppliedAt = e.AppliedAt
		}
	}
	return vs, nil
}
