package cli

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/internal/dburl"
)

// detailedError is an error whose JSON error document carries more than the message: what
// the run did before it failed, and the failure's parts as fields.
type detailedError struct {
	err    error
	fields map[string]any
}

func (e *detailedError) Error() string { return e.err.Error() }
func (e *detailedError) Unwrap() error { return e.err }

// withFields attaches fields to err's JSON error document.
func withFields(err error, fields map[string]any) error {
	if err == nil || len(fields) == 0 {
		return err
	}
	return &detailedError{err: err, fields: fields}
}

// errorFields returns the fields err carries for its JSON error document, if any.
func errorFields(err error) map[string]any {
	var de *detailedError
	if errors.As(err, &de) {
		return de.fields
	}
	return nil
}

// runReport is what an upgrade run did besides applying versions, for its output.
type runReport struct {
	created string // the database the run created, redacted URL
	stamped bool   // the database was put under version control first
	stampAt int    // at this version
	backup  string // path of the backup taken first
}

// upgradeDoc is the JSON document of an upgrade, successful or not.
func upgradeDoc(res *ratchet.Result, r runReport) map[string]any {
	doc := map[string]any{}
	if res != nil {
		applied := make([]map[string]any, 0, len(res.Applied))
		for _, a := range res.Applied {
			entry := map[string]any{
				"version": a.Version, "script": a.Script, "statements": a.Statements,
				"duration_ms": milliseconds(a.Duration),
			}
			if a.Phase != "" && a.Phase != "upgrade" {
				entry["phase"] = a.Phase
			}
			if a.Phase == "migrate" {
				entry["rows"], entry["done"] = a.Rows, a.Done
			}
			applied = append(applied, entry)
		}
		doc["from"], doc["to"], doc["applied"] = res.Start, res.End, applied
		r.stamped = r.stamped || res.Stamped
	}
	doc["stamped"] = r.stamped
	if r.stamped {
		doc["stamped_at"] = r.stampAt
	}
	if r.created != "" {
		doc["created_database"] = r.created
	}
	if r.backup != "" {
		doc["backup"] = r.backup
	}
	return doc
}

// milliseconds returns d in milliseconds with microsecond precision, so that a fast version
// reads 0.412, not 0.
func milliseconds(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// failureDoc describes a failed script as fields: version, file, line, statement (1-based
// index in the script), the database's code and message.
func failureDoc(m *ratchet.Migrator, err error) map[string]any {
	var se *ratchet.ScriptError
	if !errors.As(err, &se) {
		return nil
	}
	doc := map[string]any{"version": se.Version, "file": se.Script, "message": oneLine(dburl.Redact(se.Err.Error()))}
	if se.Line > 0 {
		doc["line"] = se.Line
	}
	if se.Code != "" {
		doc["code"] = se.Code
	}
	if i := statementIndex(m, se); i > 0 {
		doc["statement"] = i
	}
	if se.Journalled {
		doc["applied_statements"], doc["total_statements"] = se.Applied, se.Total
	}
	return doc
}

// statementIndex finds the failing statement's 1-based position in its script by planning
// the failed version alone (planning reads no database); 0 when it cannot be told.
func statementIndex(m *ratchet.Migrator, se *ratchet.ScriptError) int {
	if se.Line == 0 {
		return 0
	}
	versions := m.Repository().Versions()
	prev := 0
	if i, _ := slices.BinarySearch(versions, se.Version); i > 0 {
		prev = versions[i-1]
	}
	plan, err := m.PlanFrom(prev, se.Version)
	if err != nil || len(plan.Steps) == 0 {
		return 0
	}
	for i, st := range plan.Steps[len(plan.Steps)-1].Statements {
		if st.Line == se.Line && (se.Statement == "" || st.Text == se.Statement) {
			return i + 1
		}
	}
	return 0
}

// statements is "1 statement" or "n statements".
func statements(n int) string {
	if n == 1 {
		return "1 statement"
	}
	return fmt.Sprintf("%d statements", n)
}

// shortDuration rounds d for a person to three or four significant digits, so a fast
// version never reads "0s" and a slow one not "4.1913s".
func shortDuration(d time.Duration) time.Duration {
	switch {
	case d < 100*time.Microsecond:
		return d.Round(time.Microsecond)
	case d < time.Second:
		return d.Round(100 * time.Microsecond)
	case d < time.Minute:
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Second)
}
