// Package lock serialises migrations of one database across processes. By default it uses
// the database's own session locks: PostgreSQL advisory locks and MySQL/MariaDB GET_LOCK. The
// lock is held on the connection that runs the migration, for the whole run, and is released
// when that session ends, so a crashed process never leaves it behind and never lets another
// process in while its last statement is still running on the server. SQLite needs none: its
// writers are serialised by `BEGIN IMMEDIATE` transactions and the busy timeout.
//
// Where a session lock does not keep other sessions out — a MariaDB Galera cluster, whose
// GET_LOCK is local to one node, or a pooler in transaction mode, whose clients move between
// server sessions — a [Lease] is the lock: a row of the lock table, taken with one write the
// database lets one writer win, renewed by a heartbeat and taken over only once expired.
package lock
