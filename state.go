package ratchet

import (
	"context"
	"fmt"
	"slices"

	"github.com/ratchetdb/ratchet/internal/versiontable"
	"github.com/ratchetdb/ratchet/repository"
)

// otherTrackers are the tracking tables of other migration tools; finding one in an
// uncontrolled database is worth saying.
var otherTrackers = []string{"alembic_version", "schema_migrations", "goose_db_version", "flyway_schema_history"}

// state is what ratchet knows about a database before it changes anything.
type state struct {
	tables          []string // every table, bookkeeping included
	hasVersionTable bool
	hasHistory      bool
	hasJournal      bool
	hasRolling      bool
	journal         *versiontable.Journal // a version stopped part way, if any
	running         bool                  // the journal's version is being applied by another run now
	window          *versiontable.Window  // the open rolling-upgrade window, if any
	controlled      bool                  // the version table has a row for the repository
	version         int                   // the recorded version when controlled, else 0
	userTables      []string
}

// readState reads the database's tables and the repository's version row.
func (s *session) readState(ctx context.Context) (state, error) { return s.readStateOn(ctx, s.conn) }

// readStateOn is readState in the transaction q.
func (s *session) readStateOn(ctx context.Context, q versiontable.Querier) (state, error) {
	var st state
	tables, err := s.table.ListTables(ctx, q)
	if err != nil {
		return st, err
	}
	st.tables = tables
	for _, t := range tables {
		switch {
		case t == s.table.Name():
			st.hasVersionTable = true
		case t == versiontable.HistoryTable:
			st.hasHistory = true
		case t == versiontable.JournalTable:
			st.hasJournal = true
		case t == versiontable.RollingTable:
			st.hasRolling = true
		case t == versiontable.LockTable:
		default:
			st.userTables = append(st.userTables, t)
		}
	}
	if st.hasVersionTable {
		st.version, st.controlled, err = s.table.Version(ctx, q)
		if err != nil {
			return st, err
		}
	}
	if st.hasJournal {
		if st.journal, err = s.table.ReadJournal(ctx, q); err != nil {
			return st, err
		}
	}
	if st.hasRolling {
		if st.window, err = s.table.ReadWindow(ctx, q); err != nil {
			return st, err
		}
	}
	return st, nil
}

// controllable returns nil when ratchet may treat the database as being at st.version:
// it is controlled, or it is empty, or it shares a version table with other repositories
// (the legacy tool started a new repository at 0 there too).
func (st state) controllable() error {
	if st.controlled || st.hasVersionTable || len(st.userTables) == 0 {
		return nil
	}
	e := &NotControlledError{Tables: st.userTables}
	for _, t := range otherTrackers {
		if slices.Contains(st.tables, t) {
			e.OtherTracker = t
			break
		}
	}
	return e
}

// controlledState reads the state of a database ratchet may work on: see
// [state.controllable].
func (s *session) controlledState(ctx context.Context) (state, error) {
	st, err := s.readState(ctx)
	if err != nil {
		return st, err
	}
	return st, st.controllable()
}

// unapplied returns, for a timestamp-numbered repository, its versions at or below
// st.version that the history says were never applied (see outOfOrder).
func (s *session) unapplied(ctx context.Context, st state) ([]int, error) {
	if !st.hasHistory || !s.m.repo.UseTimestampNumbering() {
		return nil, nil
	}
	applied, err := s.table.AppliedVersions(ctx, s.conn)
	if err != nil {
		return nil, err
	}
	missing := s.m.outOfOrder(applied, st.version)
	if st.window != nil {
		inWindow, err := s.unappliedInWindow(ctx, st)
		if err != nil {
			return nil, err
		}
		missing = append(missing, inWindow...)
	}
	return missing, nil
}

// unappliedInWindow returns the versions an open window went past in its expand or migrate
// phase that have a part for that phase and no record of it: merged below the window's
// position after it moved (timestamp numbering), they would have their later phases run
// without their first.
func (s *session) unappliedInWindow(ctx context.Context, st state) ([]int, error) {
	entries, err := s.table.History(ctx, s.conn)
	if err != nil {
		return nil, err
	}
	ran := map[[2]string]bool{}
	for _, e := range entries {
		ran[[2]string{fmt.Sprint(e.Version), e.Phase}] = true
	}
	var out []int
	for _, ph := range []struct {
		name string
		upTo int
	}{{repository.OpExpand, st.window.Expanded}, {repository.OpMigrate, st.window.Migrated}} {
		parts, err := s.m.parts(ph.name, st.version, ph.upTo)
		if err != nil {
			return nil, err
		}
		for _, p := range parts {
			if p.Script != nil && !ran[[2]string{fmt.Sprint(p.Version), ph.name}] && !slices.Contains(out, p.Version) {
				out = append(out, p.Version)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// outOfOrder returns the repository's versions at or below current that are missing from
// applied (ascending), counting from the first version the history knows: earlier ones may
// have been applied by the legacy tool, which keeps no history. Only timestamp numbering
// lets branches merge a version below one already applied; with sequential numbers a version
// missing from the history was applied by another tool, so nothing is reported.
func (m *Migrator) outOfOrder(applied []int, current int) []int {
	if len(applied) == 0 || !m.repo.UseTimestampNumbering() {
		return nil
	}
	var missing []int
	for _, v := range m.repo.Versions() {
		if v > applied[0] && v <= current && !m.emptyRolling(v) {
			if _, found := slices.BinarySearch(applied, v); !found {
				missing = append(missing, v)
			}
		}
	}
	return missing
}

// emptyRolling reports whether v is a rolling version with no part for this database: its
// phases are recorded in the window as they run, and none leaves a history row.
func (m *Migrator) emptyRolling(v int) bool {
	if !m.repo.Rolling(v) {
		return false
	}
	for _, ph := range []string{repository.OpExpand, repository.OpMigrate, repository.OpContract} {
		if _, ok, err := m.repo.Script(v, m.dialect.Name(), ph); err != nil || ok {
			return false
		}
	}
	return true
}
