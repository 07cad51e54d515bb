package ratchet

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
)

// holdSQLiteFile sets an SQLite connection up for an upgrade run that writes, and returns the
// function that puts it back the way it was. Both settings belong to the connection, not to
// the file, and neither applies to a database in WAL mode, which is persistent and its
// owner's choice (and where readers need not wait for a writer):
//
//   - locking_mode=EXCLUSIVE: from the run's first write to its end the connection keeps the
//     file's lock, as the server dialects keep their migration lock for the whole run.
//     Another ratchet waits (busy timeout = lock timeout) and then finds the versions
//     applied; other connections wait too. The journal also stays open between versions,
//     which spares each version a reopen, a directory sync and the file-locking calls.
//   - journal_mode=PERSIST, from DELETE or TRUNCATE: a commit ends by zeroing the journal's
//     header in place rather than deleting or truncating the file. synchronous is left as it
//     is (FULL by default), so every commit stays as durable.
func holdSQLiteFile(ctx context.Context, conn *sql.Conn) (restore func(context.Context) error, err error) {
	var journal, locking string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&journal); err != nil {
		return nil, fmt.Errorf("reading the journal mode: %w", err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA locking_mode").Scan(&locking); err != nil {
		return nil, fmt.Errorf("reading the locking mode: %w", err)
	}
	var undo []string
	restore = func(ctx context.Context) error {
		for _, q := range undo {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				// A connection left exclusive would lock everyone else out: drop it from the pool.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
				return fmt.Errorf("restoring the connection's SQLite settings (%s): %w", q, err)
			}
		}
		return nil
	}
	if journal == "wal" {
		return restore, nil
	}
	if journal == "delete" || journal == "truncate" {
		var mode string
		if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode = PERSIST").Scan(&mode); err != nil {
			return nil, fmt.Errorf("PRAGMA journal_mode = PERSIST: %w", err)
		}
		undo = append(undo, "PRAGMA journal_mode = "+journal)
	}
	if locking == "exclusive" {
		return restore, nil
	}
	exclusive, err := lockExclusive(ctx, conn)
	if exclusive {
		// The lock is released at the connection's next access once the mode is NORMAL again.
		undo = append([]string{"PRAGMA locking_mode = NORMAL; PRAGMA schema_version"}, undo...)
	}
	if err != nil {
		return nil, errors.Join(err, restore(context.WithoutCancel(ctx)))
	}
	return restore, nil
}

// lockExclusive takes the file's write lock with BEGIN IMMEDIATE, waiting up to the
// connection's busy timeout for any other writer, and turns the connection exclusive inside
// that transaction, so that it keeps the lock from then on. Turning exclusive first would be
// wrong: an exclusive connection keeps the read lock it takes while it waits, and the writer
// it waits for would in turn wait for that read lock to go. The transaction is explicit, not
// database/sql's: the caller's DSN may make BEGIN deferred. exclusive reports whether the
// mode was set, whatever the error.
func lockExclusive(ctx context.Context, conn *sql.Conn) (exclusive bool, err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return false, fmt.Errorf("starting a transaction: %w", err)
	}
	var mode string
	if err = conn.QueryRowContext(ctx, "PRAGMA locking_mode = EXCLUSIVE").Scan(&mode); err == nil {
		exclusive = true
		if _, err = conn.ExecContext(ctx, "COMMIT"); err == nil {
			return true, nil
		}
	}
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return exclusive, err
}
