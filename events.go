package ratchet

import "time"

// EventKind says what an [Event] reports.
type EventKind int

// The kinds of events.
const (
	VersionStarted EventKind = iota + 1 // a version's script is about to run
	VersionApplied                      // a version was applied and committed
	Warning                             // something the operator should know; the run goes on
	Stamped                             // an empty database was put under version control at 0
	// StatementStarted: a statement sent on its own is about to run (statements sent
	// together in one round trip are not reported one by one).
	StatementStarted
	// VersionStopped: a data migration stopped at a limit with work left; what its committed
	// batches did stays, and the next run continues from there.
	VersionStopped
)

// Event is a step of a migration, reported through [WithEvents] as it happens.
type Event struct {
	Kind       EventKind
	From       int // VersionStarted, VersionApplied: the version before
	Version    int
	Script     string
	Statements int           // VersionApplied: statements run
	Duration   time.Duration // VersionApplied: time the version took
	Message    string        // Warning: the text; Stamped: what was there, if not an empty database
	Line       int           // StatementStarted: the statement's line in Script
	// Phase is "upgrade", or the phase of a rolling version ("expand", "migrate", "contract").
	Phase string
	Rows  int64 // VersionApplied of a data migration: the rows its batches changed in this run
}

// emit reports e to the event handler and the logger.
func (m *Migrator) emit(e Event) {
	switch e.Kind {
	case Warning:
		m.cfg.logger.Warn(e.Message, "version", e.Version)
	case VersionApplied:
		m.cfg.logger.Info("version applied", "version", e.Version, "script", e.Script,
			"statements", e.Statements, "duration", e.Duration)
	}
	m.cfg.events(e)
}
