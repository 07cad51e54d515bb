package testdb

import (
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// PgBouncer is a PgBouncer of its own in transaction pooling mode in front of a PostgreSQL
// server: each transaction of a client, and each statement outside one, may run on another
// server connection, so session state (advisory locks, settings) does not follow the
// client. It starts in well under a second, so each test that needs one starts its own; it
// is stopped when the test ends.
type PgBouncer struct {
	port   int
	server *url.URL
	cmd    *exec.Cmd
	exited chan struct{}
}

// PoolSize is how many server connections a PgBouncer keeps per database and user: fewer
// than the clients the tests run at once, so that clients share them.
const PoolSize = 3

// StartPgBouncer starts a PgBouncer in front of the PostgreSQL server of serverURL (a
// postgres:// URL of any database; its user and password log in to the server). It skips
// the test loudly when pgbouncer is not installed, or fails it when
// RATCHET_TEST_REQUIRE_SERVERS=1.
func StartPgBouncer(t testing.TB, serverURL string) *PgBouncer {
	t.Helper()
	program, err := lookProgram("pgbouncer")
	if err != nil {
		unavailable(t, "pgbouncer: %v (install pgbouncer)", err)
	}
	server, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "ratchet-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &PgBouncer{port: freePort(t), server: server}
	target := fmt.Sprintf("host=%s port=%s user=%s", server.Hostname(), server.Port(), server.User.Username())
	if pw, ok := server.User.Password(); ok {
		target += " password=" + pw
	}
	// auth_type any: clients log in as anyone, the server connections as the user above.
	// Server connections are handed out in turn, not the last used first, so that a
	// client's statements move between them whenever more than one is idle.
	ini := fmt.Sprintf(`[databases]
* = %s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = %d
server_round_robin = 1
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
logfile = %s
`, target, p.port, PoolSize, filepath.Join(dir, "pgbouncer.log"))
	config := filepath.Join(dir, "pgbouncer.ini")
	if err := os.WriteFile(config, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(program, config)
	if os.Geteuid() == 0 {
		// PgBouncer refuses to run as root.
		if err := p.runAs("postgres", dir, config); err != nil {
			unavailable(t, "pgbouncer: %v", err)
		}
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("testdb: starting pgbouncer: %v", err)
	}
	p.exited = make(chan struct{})
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(serverTimeout):
			t.Errorf("testdb: pgbouncer did not exit")
		}
	})
	deadline := time.Now().Add(serverTimeout)
	for {
		conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)))
		if err == nil {
			conn.Close()
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("testdb: pgbouncer exited:\n%s", fileTail(filepath.Join(dir, "pgbouncer.log")))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("testdb: pgbouncer does not accept connections: %v", err)
		}
	}
}

// runAs makes the command run as the named system user, who gets the directory and config.
func (p *PgBouncer) runAs(name, dir, config string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return err
	}
	for _, path := range []string{dir, config} {
		if err := os.Chown(path, int(uid), int(gid)); err != nil {
			return err
		}
	}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	return nil
}

// Warm opens every server connection of the pool for database name, by holding PoolSize
// transactions open at once: from then on a client's consecutive statements run on
// different server connections.
func (p *PgBouncer) Warm(t testing.TB, name string) {
	t.Helper()
	db := Open(t, p.URL(name))
	defer db.Close()
	var txs []*sql.Tx
	for range PoolSize {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("SELECT 1"); err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	for _, tx := range txs {
		tx.Rollback()
	}
}

// URL returns the ratchet URL of database name through the pooler. It asks pgx for the
// simple query protocol: PgBouncer before 1.21 keeps no prepared statements in transaction
// mode, and pgx prepares and caches every statement by default.
func (p *PgBouncer) URL(name string) string {
	u := *p.server
	u.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port))
	u.Path = "/" + name
	q := u.Query()
	q.Set("default_query_exec_mode", "simple_protocol")
	u.RawQuery = q.Encode()
	return u.String()
}
