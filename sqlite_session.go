package ratchet

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
)

// holdSQLiteFile sets an SQLite connection up for an upgrade run and returns the function
// that puts it back the way it was. Both settings belong to the connection, not to the file:
//
//   - locking_mode=EXCLUSIVE: from the run's first write to its end the connection keeps the
//     file's lock, as the server dialects keep their migration lock for the whole run.
//     Another ratchet waits (busy timeout = lock timeout) and then finds the versions
//     applied; other connections wait too. The journal also stays open between versions,
//     which spares each version a reopen, a directory sync and the file-locking calls.
//   - journal_mode=PERSIST, from DELETE or TRUNCATE: a commit ends by zeroing the journal's
//     header in place rather than deleting or truncating the file. synchronous is left as it
//     is (FULL by default), so every commit stays as durable. A database in WAL mode, which
//     is persistent and its owner's choice, is left alone.
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
	set := func(q, undoQuery string) error {
		var mode string
		if err := conn.QueryRowContext(ctx, q).Scan(&mode); err != nil {
			return errors.Join(fmt.Errorf("%s: %w", q, err), restore(context.WithoutCancel(ctx)))
		}
		undo = append([]string{undoQuery}, undo...)
		return nil
	}
	if journal == "delete" || journal == "truncate" {
		if err := set("PRAGMA journal_mode = PERSIST", "PRAGMA journal_mode = "+journal); err != nil {
			return nil, err
		}
	}
	if locking != "exclusive" {
		// Turn exclusive inside a write transaction, once BEGIN IMMEDIATE has waited (busy
		// timeout = lock timeout) for any other writer: an exclusive connection keeps the read
		// lock it takes while it waits, and the writer it waits for would in turn wait for that
		// read lock to go. The lock kept from here on is released at the connection's next
		// access once the mode is NORMAL again.
		err := inTx(ctx, conn, func(tx *sql.Tx) error {
			var mode string
			return tx.QueryRowContext(ctx, "PRAGMA locking_mode = EXCLUSIVE").Scan(&mode)
		})
		undo = append([]string{"PRAGMA locking_mode = NORMAL; PRAGMA schema_version"}, undo...)
		if err != nil {
			return nil, errors.Join(err, restore(context.WithoutCancel(ctx)))
		}
	}
	return restore, nil
}
