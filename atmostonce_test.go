package ratchet_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"modernc.org/sqlite"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/drivers/sqlitedriver"
)

// countingConnector opens modernc.org/sqlite connections that keep every query text sent
// to them, so that a test can see what the engine sent and how often.
type countingConnector struct {
	dsn  string
	mu   sync.Mutex
	sent []string
}

func (c *countingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := (&sqlite.Driver{}).Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, c: c}, nil
}

func (c *countingConnector) Driver() driver.Driver { return &sqlite.Driver{} }

func (c *countingConnector) count(query string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, query)
}

// times returns how many times stmt was sent, alone or within a query of several statements.
func (c *countingConnector) times(stmt string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, q := range c.sent {
		n += strings.Count(q, stmt)
	}
	return n
}

// countingConn forwards to a modernc.org/sqlite connection, counting statements.
type countingConn struct {
	driver.Conn
	c *countingConnector
}

func (cc *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cc.c.count(query)
	return cc.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (cc *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cc.c.count(query)
	return cc.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (cc *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return cc.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

// TestEachStatementSentAtMostOnce: an upgrade that fails sends every statement up to the
// failing one once, and none after it, on a transactional and on an atomic run.
func TestEachStatementSentAtMostOnce(t *testing.T) {
	for _, atomic := range []bool{false, true} {
		name := "per version"
		if atomic {
			name = "atomic"
		}
		t.Run(name, func(t *testing.T) {
			cc := &countingConnector{dsn: filepath.Join(t.TempDir(), "count.sqlite")}
			db := sql.OpenDB(cc)
			defer db.Close()
			stmts := []string{
				"CREATE TABLE a (id INTEGER PRIMARY KEY)",
				"INSERT INTO a (id) VALUES (1)",
				"CREATE TABLE b (id INTEGER)",
				"INSERT INTO a (id) VALUES (0 + 1)", // fails: duplicate key
				"CREATE TABLE never (id INTEGER)",
			}
			repo := newRepo(t, map[string]string{
				"001_a_default_upgrade.sql": stmts[0] + ";\n" + stmts[1] + ";",
				"002_b_default_upgrade.sql": stmts[2] + ";\n" + stmts[3] + ";\n" + stmts[4] + ";",
			})
			m, err := ratchet.New(db, dialect.SQLite, repo, ratchet.WithDriver(sqlitedriver.New()))
			if err != nil {
				t.Fatal(err)
			}
			var opts []ratchet.UpgradeOption
			if atomic {
				opts = append(opts, ratchet.Atomic())
			}
			_, err = m.Upgrade(context.Background(), ratchet.Latest, opts...)
			var se *ratchet.ScriptError
			if !errors.As(err, &se) || se.Version != 2 || se.Line != 2 || se.Index != 2 {
				t.Fatalf("Upgrade = %v; want version 2 to fail at its second statement", err)
			}
			for i, st := range stmts {
				want := 1
				if i == len(stmts)-1 {
					want = 0 // after the failure
				}
				if got := cc.times(st); got != want {
					t.Errorf("%q sent %d times, want %d", st, got, want)
				}
			}
		})
	}
}
