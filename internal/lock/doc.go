// Package lock serialises migrations of one database across processes with the database's
// own session locks: PostgreSQL advisory locks and MySQL/MariaDB GET_LOCK. The lock is held on
// the connection that runs the migration, for the whole run, and is released when that
// session ends, so a crashed process never leaves it behind and never lets another process in
// while its last statement is still running on the server. SQLite needs none: its writers are serialised by
// `BEGIN IMMEDIATE` transactions and the busy timeout.
package lock
