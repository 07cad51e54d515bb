//go:build rollingproof

package main

import "testing"

// The tests in this file wait for pieces of the engine; until these land they are built only
// with -tags rollingproof.

// TestRollingConcurrentMigrateSQLite is TestRollingConcurrentMigrate on SQLite. It waits for
// the engine: concurrent `db migrate` runs on one SQLite file are not serialized by a
// migration lock, so their batches interleave and all but one of them stop with exit 1 ("the
// window changed under the run (another process is migrating?)") instead of waiting and
// exiting 0 as on the servers. No row is migrated twice all the same.
func TestRollingConcurrentMigrateSQLite(t *testing.T) {
	rollingOn(t, []string{"sqlite"}, rollingConcurrentMigrate)
}
