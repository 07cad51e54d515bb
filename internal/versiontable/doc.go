// Package versiontable reads and writes ratchet's bookkeeping: the sqlalchemy-migrate
// version table (`migrate_version`: one row per repository, byte-compatible with the legacy
// tool) and ratchet's own `ratchet_history` (one row per applied script, with its checksum).
//
// Every method takes the [Querier] to run on, so that a version's statements, its version
// update and its history row commit in one transaction.
package versiontable
