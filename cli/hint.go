package cli

import (
	"errors"
	"fmt"

	"github.com/ratchetdb/ratchet"
)

// hint returns what the operator can do next about err, in the command line's own terms
// (the library's errors say what happened, not which flags to use), or "".
func hint(err error) string {
	var lt *ratchet.LockTimeoutError
	var sv *ratchet.StoppedVersionError
	var se *ratchet.ScriptError
	var san *ratchet.SanityError
	var re *ratchet.ResumeError
	var we *ratchet.WindowError
	switch {
	case errors.As(err, &lt):
		return " (wait and retry, or raise --lock-timeout)"
	case errors.Is(err, ratchet.ErrLockLost):
		return "; run `db sync` again: it continues once it holds the lock (if renewals keep failing, raise --lease-duration)"
	case errors.Is(err, ratchet.ErrPooledSession):
		return " (run with --lock lease)"
	case errors.Is(err, ratchet.ErrNotControlled):
		return " with `db version_control VERSION`"
	case errors.As(err, &re):
		return " with `db sync --retry`"
	case errors.As(err, &san):
		return " (or skip this check with --skip-sanity-check)"
	case errors.As(err, &sv):
		return "; " + stoppedHint(sv)
	case errors.As(err, &se) && se.Journalled && se.ConnectionLost:
		return "; once the server is back, run `db sync` again: it says what is known of the version and the choices"
	case errors.As(err, &se) && se.Journalled:
		c := phaseCommand(se.Phase)
		return "; fix the script, then run `" + c + " --resume` or `" + c + " --retry`"
	case errors.As(err, &se) && se.ConnectionLost:
		return "; run `db sync` again once the server is back"
	case errors.Is(err, ratchet.ErrNotAtomic):
		return "; run without --atomic"
	case errors.Is(err, ratchet.ErrDataPending):
		return "; run `db migrate` again to continue"
	case errors.Is(err, ratchet.ErrOffline):
		var oe *ratchet.OfflineError
		errors.As(err, &oe)
		return fmt.Sprintf(": stop the service and run `db sync %d` in a maintenance window, then expand again", oe.To)
	case errors.As(err, &we) && we.Next != "":
		return "; run `db " + we.Next + "` first"
	case preparedStatementLost(err):
		return " (a pooler in transaction mode, such as PgBouncer, in front of the server? add default_query_exec_mode=simple_protocol to the URL and run with --lock lease)"
	}
	return ""
}

// preparedStatementLost reports PostgreSQL's errors for a prepared statement that is not on
// the server connection the client thinks it is on: what pgx's statement cache meets
// behind a pooler in transaction mode.
func preparedStatementLost(err error) bool {
	var state interface{ SQLState() string }
	return errors.As(err, &state) && (state.SQLState() == "26000" || state.SQLState() == "42P05")
}

// stoppedHint spells out the choices for a version that stopped part way.
func stoppedHint(e *ratchet.StoppedVersionError) string {
	c := phaseCommand(e.Phase)
	retry := fmt.Sprintf("`%s --retry` to run version %d again from statement 1", c, e.Version)
	switch {
	case e.Failed > 0:
		return fmt.Sprintf("fix the script, then run `%s --resume` to continue at statement %d (the applied statements are checked unchanged) or %s",
			c, e.NextStatement(false), retry)
	case e.InFlight > 0:
		return fmt.Sprintf("check whether statement %d took effect, then run `%s --resume --in-flight=completed` to continue at statement %d, or `%s --resume --in-flight=not-completed` to run statement %d again; or undo what the version did and run %s",
			e.InFlight, c, e.InFlight+1, c, e.InFlight, retry)
	}
	return fmt.Sprintf("run `%s --resume` to continue at statement %d or %s", c, e.NextStatement(false), retry)
}

// phaseCommand is the command that continues a stopped phase: db expand, db migrate or db
// contract for theirs (db sync continues them too, offline, finishing the window), db sync
// otherwise.
func phaseCommand(phase string) string {
	if phase == "expand" || phase == "migrate" || phase == "contract" {
		return "db " + phase
	}
	return "db sync"
}
