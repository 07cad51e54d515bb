package backup

import (
	"context"
	"database/sql"
	"fmt"
	"io"

	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/sqlrows"
)

// mysqlMethod backs up with mariadb-dump (or mysqldump) in one consistent transaction,
// routines, triggers and events included, without CREATE DATABASE so that the dump can be
// restored under another name. It restores by dropping the database's objects and running
// the dump with the mariadb (or mysql) client.
type mysqlMethod struct{}

func (mysqlMethod) payload() string { return "payload.sql" }

func mysqlTool(names ...string) tool { return tool{names: names, pkg: mariadbPackage} }

func (mysqlMethod) dump(ctx context.Context, db Database, w io.Writer, _ string) (string, error) {
	t := mysqlTool("mariadb-dump", "mysqldump")
	path, err := t.find()
	if err != nil {
		return "", err
	}
	version := t.version(ctx, path)
	args := append(mysqlConnArgs(db),
		"--single-transaction", "--routines", "--triggers", "--events",
		"--hex-blob", "--no-tablespaces", "--default-character-set=utf8mb4", db.Name)
	p := command(ctx, path, db.Password, mysqlEnv(db), args...)
	p.cmd.Stdout = w
	if err := p.run(); err != nil {
		return "", err
	}
	return version, nil
}

// restore empties the database, then runs the dump through the client.
// check finds the client restore runs.
func (mysqlMethod) check(Database) error {
	_, err := mysqlTool("mariadb", "mysql").find()
	return err
}

func (mysqlMethod) restore(ctx context.Context, db Database, r io.Reader) error {
	if db.DB == nil {
		return fmt.Errorf("backup: a MySQL restore needs an open *sql.DB")
	}
	path, err := mysqlTool("mariadb", "mysql").find()
	if err != nil {
		return err
	}
	if err := mysqlEmpty(ctx, db); err != nil {
		return fmt.Errorf("emptying the database before restoring: %w", err)
	}
	args := append(mysqlConnArgs(db), "--default-character-set=utf8mb4", "--database="+db.Name)
	p := command(ctx, path, db.Password, mysqlEnv(db), args...)
	p.cmd.Stdin = ctxReader{ctx, r}
	p.cmd.Stdout = io.Discard
	if err := p.run(); err != nil {
		return fmt.Errorf("%w (MySQL cannot roll DDL back: the database is incomplete until the restore succeeds)", err)
	}
	return nil
}

// mysqlEmpty drops the database's views, tables, routines and events on one connection,
// with foreign key checks off so that tables go in any order.
func mysqlEmpty(ctx context.Context, db Database) error {
	// One connection, for the session setting below: a pool's own, or the one given.
	var conn *sql.Conn
	switch q := db.DB.(type) {
	case *sql.Conn:
		conn = q
	case interface {
		Conn(context.Context) (*sql.Conn, error)
	}:
		c, err := q.Conn(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		conn = c
	default:
		return fmt.Errorf("backup: a MySQL restore needs a *sql.DB or *sql.Conn, not %T", db.DB)
	}
	if _, err := conn.ExecContext(ctx, "SET FOREIGN_KEY_CHECKS = 0"); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SET FOREIGN_KEY_CHECKS = 1")
	queries := []string{
		`SELECT CASE table_type WHEN 'VIEW' THEN 'VIEW' ELSE 'TABLE' END, table_name
FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_type = 'VIEW' DESC`,
		`SELECT routine_type, routine_name FROM information_schema.routines
WHERE routine_schema = DATABASE() AND routine_type IN ('PROCEDURE', 'FUNCTION')`,
		`SELECT 'EVENT', event_name FROM information_schema.events WHERE event_schema = DATABASE()`,
	}
	for _, q := range queries {
		objects, err := queryPairs(ctx, conn, q)
		if err != nil {
			return err
		}
		for _, o := range objects {
			if _, err := conn.ExecContext(ctx, "DROP "+o[0]+" IF EXISTS "+dialect.MySQL.Quote(o[1])); err != nil {
				return err
			}
		}
	}
	return nil
}

// queryPairs runs a query whose rows have two string columns: an object kind that is one
// SQL keyword (TABLE, VIEW, PROCEDURE, FUNCTION, EVENT) and a name.
func queryPairs(ctx context.Context, conn *sql.Conn, query string) ([][2]string, error) {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		switch p[0] {
		case "TABLE", "VIEW", "PROCEDURE", "FUNCTION", "EVENT":
			out = append(out, p)
		default:
			return nil, fmt.Errorf("unexpected object kind %q for %q", p[0], p[1])
		}
	}
	return out, rows.Err()
}

func (mysqlMethod) contents(ctx context.Context, db Database) ([]string, error) {
	return sqlrows.Strings(ctx, db.DB, `SELECT table_name FROM information_schema.tables
WHERE table_schema = DATABASE() ORDER BY table_name`)
}

// mysqlConnArgs returns the client options that reach the server as the Go driver does: a
// unix socket when one is given, else TCP (the clients would take "localhost" to mean the
// default socket).
func mysqlConnArgs(db Database) []string {
	var args []string
	if db.Socket != "" {
		args = append(args, "--protocol=SOCKET", "--socket="+db.Socket)
	} else {
		host, port := db.Host, db.Port
		if host == "" {
			host = "127.0.0.1"
		}
		if port == "" {
			port = "3306"
		}
		args = append(args, "--protocol=TCP", "--host="+host, "--port="+port)
	}
	if db.User != "" {
		args = append(args, "--user="+db.User)
	}
	return args
}

// mysqlEnv returns the environment that gives the clients the password.
func mysqlEnv(db Database) []string {
	if db.Password != "" {
		return []string{"MYSQL_PWD=" + db.Password}
	}
	return nil
}
