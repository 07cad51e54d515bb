// Package sqlsplit splits migration scripts into the statements that are sent to the
// database one at a time, as written.
//
// The splitter is a single-pass byte scanner that knows the lexical rules of each
// [Dialect]: string literals and quoted identifiers, line and block comments, PostgreSQL
// dollar quotes, E'…' strings and BEGIN ATOMIC function bodies, MySQL backslash escapes,
// # comments, executable /*!…*/ and MariaDB /*M!…*/ comments and the client DELIMITER directive, and the
// compound BEGIN … END bodies of stored routines and triggers, which are kept whole (in
// MySQL with or without DELIMITER). It never parses SQL beyond what is needed to find
// where a statement ends, and its cost is linear in the size of the script.
//
// Every [Statement] starts at its first token (comments between statements are dropped,
// comments inside a statement are kept), ends before its terminator, and records the line
// and byte offset where it starts, so an error the database reports can name the exact
// place in the script. A script that cannot be split — an unterminated quote, comment,
// dollar quote or BEGIN … END block, or a bad DELIMITER line — yields a [*SyntaxError]
// that names the line. So does a script holding what no database must be sent: a NUL
// byte, or a psql meta-command (\connect, \set, …) in a PostgreSQL script ([NotSQL]).
//
// [IsTransactionControl] and [NoTransaction] answer the two questions the migration
// engine asks about a script besides its statements: which statements to skip because a
// script must not manage the transaction itself, and whether the script opts out of the
// per-version transaction.
//
// The package has no state; every function is safe for concurrent use.
package sqlsplit
