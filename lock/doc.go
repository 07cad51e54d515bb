// Package lock serialises migrations of one database across processes with the database's
// own session locks: PostgreSQL advisory locks and MySQL/MariaDB GET_LOCK. The lock is held on
// a dedicated connection for the whole run and is released when that connection closes, so a
// crashed process never leaves it behind. SQLite needs none: its writers are serialised by
// `BEGIN IMMEDIATE` transactions and the busy timeout.
package lock
