//go:build rollingproof

package main

import "testing"

// The tests in this file wait for pieces of the engine; until these land they are built only
// with -tags rollingproof.

// TestRollingConcurrentSQLite is TestRollingConcurrent on SQLite. It waits for the engine:
// runs of one phase on one SQLite file are not serialized by a migration lock. Concurrent
// `db migrate` runs interleave their batches and all but one stop with exit 1 ("the window
// changed under the run (another process is migrating?)"); a `db contract` that starts while
// another commits exits 1, either running the pending query of a data migration whose column
// the other's contract dropped ("-- ratchet:pending query: … no such column: name") or
// saying that contraction "cannot be run before database expansion". On the servers the
// others wait and exit 0. No row is migrated twice all the same.
func TestRollingConcurrentSQLite(t *testing.T) {
	rollingOn(t, []string{"sqlite"}, rollingConcurrent)
}
