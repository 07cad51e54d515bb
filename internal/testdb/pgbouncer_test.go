package testdb

import (
	"context"
	"database/sql"
	"testing"
)

// TestPgBouncerSessionLockFloats shows why ratchet needs a lease behind PgBouncer in
// transaction mode: an advisory lock one client takes stays on the server connection it ran
// on, and whichever client that connection serves next holds it too.
func TestPgBouncerSessionLockFloats(t *testing.T) {
	tdb := New(t, "postgresql")
	pb := StartPgBouncer(t, tdb.URL)
	ctx := context.Background()
	db := Open(t, pb.URL(tdb.Name))
	defer db.Close()
	const key = 7031
	var got bool
	if err := db.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil || !got {
		t.Fatalf("pg_try_advisory_lock = %v, %v", got, err)
	}
	// Every server connection of the pool serves one of these transactions: one of them
	// runs where the lock was taken.
	holders := 0
	var txs []*sql.Tx
	for range PoolSize {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
		if err := tx.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got {
			holders++
		}
	}
	for _, tx := range txs {
		tx.Rollback()
	}
	if holders != 1 {
		t.Errorf("%d of %d pooled transactions could take the lock another client holds, want exactly 1 (the one on its server connection)", holders, PoolSize)
	}
	// Leave no advisory lock behind on the shared server's pooled connections.
	if _, err := db.ExecContext(ctx, "SELECT pg_advisory_unlock_all()"); err != nil {
		t.Fatal(err)
	}
}
