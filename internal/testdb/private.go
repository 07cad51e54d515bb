package testdb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/testenv"
)

// Server is a database server of its own, started for one test in a temporary directory and
// thrown away when the test ends. Tests that stop, crash or restart a server use one, so that
// the shared servers, which other tests use in parallel, are never disturbed.
//
// A PostgreSQL server checks passwords on TCP connections (scram-sha-256); a MariaDB server
// has a root without password. A Server is not safe for concurrent use.
type Server struct {
	// Dialect is [dialect.Postgres] or [dialect.MySQL] (MariaDB).
	Dialect dialect.Dialect
	// URL is the ratchet URL of the server's maintenance database, with the superuser's
	// credentials.
	URL string
	// User and Password are the superuser's credentials (Password is "" for MariaDB).
	User, Password string

	port int
	proc serverProcess
}

// serverProcess starts and stops one kind of server.
type serverProcess interface {
	start(ctx context.Context, port int) error
	stop(ctx context.Context) error // clean shutdown
	kill(ctx context.Context) error // crash: no shutdown work at all
	running() bool                  // whether the server process is alive
	logTail() string                // the end of the server's log, for failure messages
}

// serverTimeout bounds every step of a server's life: initialising, starting, stopping.
const serverTimeout = 60 * time.Second

// NewServer initialises and starts a private server of the named dialect ("postgresql" or
// "mysql", the latter being MariaDB), stopped and removed when the test ends. It skips the
// test loudly when the server's programs are not installed, or fails it when
// RATCHET_TEST_REQUIRE_SERVERS=1.
func NewServer(t testing.TB, name string) *Server {
	t.Helper()
	dir, err := os.MkdirTemp("", "ratchet-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Server{port: freePort(t)}
	host := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	switch name {
	case "postgresql":
		s.Dialect, s.User, s.Password = dialect.Postgres, "postgres", "pw-"+randomSuffix()
		s.URL = "postgres://" + s.User + ":" + s.Password + "@" + host + "/postgres?sslmode=disable"
		s.proc = newPostgresProcess(t, dir, s.User, s.Password)
	case "mysql":
		s.Dialect, s.User = dialect.MySQL, "root"
		s.URL = "mysql://" + s.User + "@" + host + "/mysql"
		s.proc = newMariaDBProcess(t, dir)
	default:
		t.Fatalf("testdb: no private server for dialect %q", name)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), serverTimeout)
		defer cancel()
		if err := s.proc.kill(ctx); err != nil {
			t.Errorf("testdb: removing the private %s server: %v", name, err)
		}
	})
	s.Start(t)
	return s
}

// Start starts the server, after [Server.Stop] or [Server.Kill], on the same port and data,
// and returns once it accepts connections.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), serverTimeout)
	defer cancel()
	if err := s.proc.start(ctx, s.port); err != nil {
		t.Fatalf("testdb: starting the private %s server: %v\n%s", s.Dialect.Name(), err, s.proc.logTail())
	}
	db := Open(t, s.URL)
	defer db.Close()
	for {
		err := db.PingContext(ctx)
		if err == nil {
			return
		}
		if ctx.Err() != nil || !s.proc.running() {
			t.Fatalf("testdb: the private %s server does not accept connections: %v\n%s", s.Dialect.Name(), err, s.proc.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop shuts the server down cleanly.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), serverTimeout)
	defer cancel()
	if err := s.proc.stop(ctx); err != nil {
		t.Fatalf("testdb: stopping the private %s server: %v\n%s", s.Dialect.Name(), err, s.proc.logTail())
	}
}

// Kill stops the server as a crash would: PostgreSQL in immediate mode (no checkpoint, crash
// recovery at the next start), MariaDB with SIGKILL. Open connections break at once.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), serverTimeout)
	defer cancel()
	if err := s.proc.kill(ctx); err != nil {
		t.Fatalf("testdb: killing the private %s server: %v\n%s", s.Dialect.Name(), err, s.proc.logTail())
	}
}

// DatabaseURL returns the ratchet URL of database name on the server, with the superuser's
// credentials.
func (s *Server) DatabaseURL(name string) string { return ReplaceDatabase(s.URL, name) }

// NewDB creates a fresh database `ratchet_t_<random>` on the server. It goes away with the
// server; its pool's connections break when the server is stopped or killed.
func (s *Server) NewDB(t testing.TB) *DB {
	t.Helper()
	admin := Open(t, s.URL)
	defer admin.Close()
	name := "ratchet_t_" + randomSuffix()
	if _, err := admin.Exec("CREATE DATABASE " + s.Dialect.Ident(name)); err != nil {
		t.Fatalf("testdb: creating %s on the private %s server: %v", name, s.Dialect.Name(), err)
	}
	url := s.DatabaseURL(name)
	return &DB{Dialect: s.Dialect, URL: url, Name: name, DB: Open(t, url)}
}

// postgresProcess is a PostgreSQL cluster run with pg_ctl, as the postgres system user when
// the tests run as root (PostgreSQL refuses to run as root).
type postgresProcess struct {
	bin, dir, data string
	runAs          string // system user to run the programs as; "" for the current user
}

func newPostgresProcess(t testing.TB, dir, superuser, password string) *postgresProcess {
	t.Helper()
	bin, err := postgresBinDir()
	if err != nil {
		unavailable(t, "private postgresql server: %v (install postgresql)", err)
	}
	p := &postgresProcess{bin: bin, dir: dir, data: filepath.Join(dir, "data")}
	if os.Geteuid() == 0 {
		p.runAs = "postgres"
		if err := chownTo(dir, p.runAs); err != nil {
			unavailable(t, "private postgresql server: %v", err)
		}
		if _, err := exec.LookPath("runuser"); err != nil {
			unavailable(t, "private postgresql server: running as root needs runuser: %v", err)
		}
	}
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if p.runAs != "" {
		if err := chownTo(pwfile, p.runAs); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), serverTimeout)
	defer cancel()
	out, err := p.command(ctx, "initdb", "-D", p.data, "-U", superuser, "--pwfile", pwfile,
		"--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions").CombinedOutput()
	if err != nil {
		t.Fatalf("testdb: initdb %s: %v\n%s", p.data, err, out)
	}
	return p
}

// command runs one of the PostgreSQL programs, as p.runAs if set.
func (p *postgresProcess) command(ctx context.Context, program string, args ...string) *exec.Cmd {
	path := filepath.Join(p.bin, program)
	if p.runAs == "" {
		return exec.CommandContext(ctx, path, args...)
	}
	return exec.CommandContext(ctx, "runuser", append([]string{"-u", p.runAs, "--", path}, args...)...)
}

func (p *postgresProcess) start(ctx context.Context, port int) error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", port, p.dir)
	out, err := p.command(ctx, "pg_ctl", "-D", p.data, "-l", p.logPath(), "-o", opts, "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl start: %w: %s", err, out)
	}
	return nil
}

func (p *postgresProcess) stop(ctx context.Context) error { return p.shutdown(ctx, "fast") }
func (p *postgresProcess) kill(ctx context.Context) error { return p.shutdown(ctx, "immediate") }

// shutdown stops the server in the given pg_ctl mode; a server not running is not an error.
func (p *postgresProcess) shutdown(ctx context.Context, mode string) error {
	if !p.running() {
		return nil
	}
	out, err := p.command(ctx, "pg_ctl", "-D", p.data, "-m", mode, "-w", "-t", "60", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop -m %s: %w: %s", mode, err, out)
	}
	return nil
}

// running reports whether the postmaster's lock file is there.
func (p *postgresProcess) running() bool {
	_, err := os.Stat(filepath.Join(p.data, "postmaster.pid"))
	return err == nil
}

func (p *postgresProcess) logPath() string { return filepath.Join(p.dir, "server.log") }
func (p *postgresProcess) logTail() string { return fileTail(p.logPath()) }

// postgresBinDir finds the directory of initdb and pg_ctl: on PATH, else the newest
// /usr/lib/postgresql/<version>/bin (Debian keeps them off PATH).
func postgresBinDir() (string, error) {
	if initdb, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(initdb)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	dirs = slices.DeleteFunc(dirs, func(d string) bool {
		_, err := os.Stat(filepath.Join(d, "initdb"))
		return err != nil
	})
	if len(dirs) == 0 {
		return "", errors.New("initdb and pg_ctl are neither on PATH nor in /usr/lib/postgresql/*/bin")
	}
	major := func(d string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		return n
	}
	slices.SortFunc(dirs, func(a, b string) int { return major(a) - major(b) })
	return dirs[len(dirs)-1], nil
}

// mariadbProcess is a MariaDB server run as a child process of the test.
type mariadbProcess struct {
	server, dir, data string
	runAs             string   // system user the server runs as when the tests run as root
	extra             []string // options beyond a single server's
	cmd               *exec.Cmd
	exited            chan struct{} // closed when cmd has exited
}

func newMariaDBProcess(t testing.TB, dir string) *mariadbProcess {
	t.Helper()
	server, err := lookProgram("mariadbd", "mysqld")
	if err != nil {
		unavailable(t, "private mysql server: %v (install mariadb-server)", err)
	}
	install, err := lookProgram("mariadb-install-db", "mysql_install_db")
	if err != nil {
		unavailable(t, "private mysql server: %v (install mariadb-server)", err)
	}
	p := &mariadbProcess{server: server, dir: dir, data: filepath.Join(dir, "data"), runAs: "root"}
	if err := p.install(install); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return p
}

// install creates the server's data directory with mariadb-install-db.
func (p *mariadbProcess) install(program string) error {
	ctx, cancel := context.WithTimeout(context.Background(), serverTimeout)
	defer cancel()
	args := []string{"--no-defaults", "--datadir=" + p.data, "--auth-root-authentication-method=normal", "--skip-test-db"}
	if os.Geteuid() == 0 {
		args = append(args, "--user="+p.runAs)
	}
	out, err := exec.CommandContext(ctx, program, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", program, strings.Join(args, " "), err, out)
	}
	return nil
}

func (p *mariadbProcess) start(_ context.Context, port int) error {
	if p.running() {
		return errors.New("already running")
	}
	args := []string{"--no-defaults", "--datadir=" + p.data, "--port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1", "--socket=" + filepath.Join(p.dir, "mysqld.sock"),
		"--pid-file=" + filepath.Join(p.dir, "mysqld.pid"), "--log-error=" + p.logPath(),
		"--skip-name-resolve", "--innodb-buffer-pool-size=32M",
		// The character set Debian's configuration gives the shared server.
		"--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci"}
	if os.Geteuid() == 0 {
		args = append(args, "--user="+p.runAs)
	}
	args = append(args, p.extra...)
	// The server is not bound to the start context: it outlives Start.
	cmd := exec.Command(p.server, args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(p.exited) }()
	return nil
}

// running reports whether the server process is alive.
func (p *mariadbProcess) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func (p *mariadbProcess) stop(ctx context.Context) error {
	return p.signal(ctx, func(proc *os.Process) error { return proc.Signal(syscall.SIGTERM) })
}

func (p *mariadbProcess) kill(ctx context.Context) error {
	return p.signal(ctx, (*os.Process).Kill)
}

// signal sends a signal to the server and waits for it to exit; a server not running is not
// an error.
func (p *mariadbProcess) signal(ctx context.Context, send func(*os.Process) error) error {
	if !p.running() {
		return nil
	}
	if err := send(p.cmd.Process); err != nil {
		return err
	}
	select {
	case <-p.exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("the server did not exit: %w", ctx.Err())
	}
}

func (p *mariadbProcess) logPath() string { return filepath.Join(p.dir, "server.log") }
func (p *mariadbProcess) logTail() string { return fileTail(p.logPath()) }

// lookProgram returns the path of the first of names found on PATH or in /usr/sbin.
func lookProgram(names ...string) (string, error) {
	for _, name := range names {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
		if path := filepath.Join("/usr/sbin", name); isExecutable(path) {
			return path, nil
		}
	}
	return "", fmt.Errorf("none of %s found on PATH or in /usr/sbin", strings.Join(names, ", "))
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0
}

// chownTo gives path to the named system user.
func chownTo(path, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return fmt.Errorf("user %s: uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return fmt.Errorf("user %s: gid %q: %w", name, u.Gid, err)
	}
	return os.Chown(path, uid, gid)
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on at the moment.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// fileTail returns the last few lines of a log file, or a note saying it cannot be read.
func fileTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return path + ":\n" + strings.Join(lines[max(0, len(lines)-15):], "\n")
}

// unavailable skips the test loudly because a private server cannot run here, or fails it
// when RATCHET_TEST_REQUIRE_SERVERS=1.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := "testdb: " + fmt.Sprintf(format, args...)
	if Required() {
		t.Fatal(msg + " (RATCHET_TEST_REQUIRE_SERVERS=1)")
	}
	t.Log(msg)
	testenv.Skip(t, "a private database server cannot run here")
}
