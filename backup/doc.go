// Package backup takes consistent backups of a database in use and restores them, so that
// the way back from a bad upgrade is always there (ratchet never downgrades).
//
// [Create] uses each database's own tool: SQLite's VACUUM INTO, PostgreSQL's pg_dump in
// custom format, and MariaDB's mariadb-dump (or MySQL's mysqldump) with
// --single-transaction, routines, triggers and events. [Restore] puts a backup back with
// an atomic file replacement (SQLite), pg_restore's script run by psql in one transaction
// (PostgreSQL), or the mariadb client (MySQL/MariaDB); see [Restore] for what each replaces.
// The tools come from the Debian packages postgresql-client and mariadb-client; passwords
// reach them through PGPASSWORD and MYSQL_PWD, never their command line, and are removed
// from their messages.
//
// # File format
//
// A backup is one file, "<database>-v<version>-<UTC time>.ratchet-backup" by default
// ([FileName]): a tar archive of two entries, the payload (payload.sqlite, payload.pgdump
// or payload.sql) and then manifest.json ([Manifest]: dialect, database, repository id,
// version, ratchet version, creation time, and the payload's size and SHA-256).
//
// One file cannot be separated from its manifest or half copied without [Verify] noticing,
// and tar keeps it open to operators without ratchet: `tar -xOf FILE manifest.json` shows
// the manifest and `tar -xf FILE payload.pgdump` gives pg_restore its input. The manifest
// comes last so that the dump streams straight into the file, hashed as it is written, with
// no second copy: the payload's header, which holds its size, is written over a reserved
// first block at the end (GNU tar headers hold any size in one block).
//
// Writing is atomic: a temporary file in the destination directory (mode 0600), synced,
// read back and verified, then renamed; any failure, a full disk included, removes it, and
// an existing file is never replaced. Reading checks the structure, the manifest and the
// payload's size and checksum before anything is restored: a truncated or modified file
// ([ErrCorrupt]), a file that is not a backup ([ErrNotBackup]), or a backup of another
// dialect or repository ([ErrMismatch]) changes nothing.
//
// The package never prints; errors are typed ([*FileError], [*MismatchError],
// [*ToolError]) and wrap the sentinels above.
package backup
