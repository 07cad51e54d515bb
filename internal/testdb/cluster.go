package testdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
)

// galeraProvider is where Debian's galera-4 package installs the replication library.
const galeraProvider = "/usr/lib/galera/libgalera_smm.so"

// Cluster is a MariaDB Galera cluster of its own on loopback: every node a mariadbd in a
// temporary directory with its own ports (client, group communication, incremental and full
// state transfer), run as the mysql system user so that the rsync state transfer works. It
// takes about as long to form as a few servers take to start, so a package starts one for all
// its tests ([StartCluster]) and stops it at the end ([Cluster.Stop]). It is not safe for
// concurrent use.
type Cluster struct {
	Dialect dialect.Dialect // always [dialect.MySQL]
	dir     string
	nodes   []*clusterNode
}

// clusterNode is one node: its process and its ports.
type clusterNode struct {
	proc                    *mariadbProcess
	port, gcomm, ist, sstTo int
}

// clusterTimeout bounds how long a cluster takes to form, and a node to join it.
const clusterTimeout = 3 * time.Minute

// ClusterAvailable returns nil when this machine has what a Galera cluster needs, or why
// not.
func ClusterAvailable() error {
	if _, err := lookProgram("mariadbd"); err != nil {
		return fmt.Errorf("%v (install mariadb-server)", err)
	}
	if !fileExists(galeraProvider) {
		return fmt.Errorf("%s not found (install galera-4)", galeraProvider)
	}
	if _, err := lookProgram("rsync"); err != nil {
		return fmt.Errorf("%v (install rsync)", err)
	}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("mysql"); err != nil {
			return fmt.Errorf("no mysql system user to run the nodes as: %v", err)
		}
	}
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// StartCluster starts a Galera cluster of n nodes and returns once every node is synced
// with all n. The caller stops it with [Cluster.Stop], also when StartCluster fails.
func StartCluster(n int) (*Cluster, error) {
	if err := ClusterAvailable(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ratchet-galera-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dialect: dialect.MySQL, dir: dir}
	install, err := lookProgram("mariadb-install-db", "mysql_install_db")
	if err != nil {
		return c, err
	}
	server, err := lookProgram("mariadbd", "mysqld")
	if err != nil {
		return c, err
	}
	for i := range n {
		ports, err := freePorts(4)
		if err != nil {
			return c, err
		}
		nodeDir := filepath.Join(dir, "node"+strconv.Itoa(i+1))
		if err := os.Mkdir(nodeDir, 0o755); err != nil {
			return c, err
		}
		if os.Geteuid() == 0 {
			if err := chownTree(dir, "mysql"); err != nil {
				return c, err
			}
		}
		p := &mariadbProcess{server: server, dir: nodeDir, data: filepath.Join(nodeDir, "data"), runAs: "mysql"}
		if err := p.install(install); err != nil {
			return c, err
		}
		c.nodes = append(c.nodes, &clusterNode{proc: p, port: ports[0], gcomm: ports[1], ist: ports[2], sstTo: ports[3]})
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	// The first node forms the cluster; the others join it and take a state transfer.
	if err := c.startNode(ctx, 0, true); err != nil {
		return c, err
	}
	for i := 1; i < n; i++ {
		if err := c.startNode(ctx, i, false); err != nil {
			return c, err
		}
	}
	for i := range n {
		if err := c.waitSynced(ctx, i); err != nil {
			return c, err
		}
	}
	return c, nil
}

// startNode starts node i; bootstrap forms a new cluster instead of joining one.
func (c *Cluster) startNode(ctx context.Context, i int, bootstrap bool) error {
	nd := c.nodes[i]
	var peers []string
	for _, o := range c.nodes {
		peers = append(peers, net.JoinHostPort("127.0.0.1", strconv.Itoa(o.gcomm)))
	}
	nd.proc.extra = []string{
		"--wsrep-on=ON", "--wsrep-provider=" + galeraProvider,
		"--wsrep-cluster-name=ratchet-test", "--wsrep-node-name=node" + strconv.Itoa(i+1),
		"--wsrep-cluster-address=gcomm://" + strings.Join(peers, ","),
		"--wsrep-node-address=127.0.0.1:" + strconv.Itoa(nd.gcomm),
		fmt.Sprintf("--wsrep-provider-options=base_port=%d;ist.recv_addr=127.0.0.1:%d;gcache.size=32M", nd.gcomm, nd.ist),
		"--wsrep-sst-receive-address=127.0.0.1:" + strconv.Itoa(nd.sstTo),
		"--wsrep-sst-method=rsync", "--binlog-format=ROW", "--innodb-autoinc-lock-mode=2",
		"--default-storage-engine=InnoDB", "--innodb-flush-log-at-trx-commit=2",
	}
	if bootstrap {
		nd.proc.extra = append(nd.proc.extra, "--wsrep-new-cluster")
	}
	if err := nd.proc.start(ctx, nd.port); err != nil {
		return fmt.Errorf("starting node %d: %w", i+1, err)
	}
	return c.waitSynced(ctx, i)
}

// waitSynced waits until node i accepts connections and says it is synced with a cluster
// of every node that is running.
func (c *Cluster) waitSynced(ctx context.Context, i int) error {
	want := 0
	for _, nd := range c.nodes {
		if nd.proc.running() {
			want++
		}
	}
	db, err := Connect(c.NodeURL(i, "mysql"))
	if err != nil {
		return err
	}
	defer db.Close()
	var last error
	for {
		state, size, err := nodeStatus(ctx, db)
		switch {
		case err != nil:
			last = err
		case state == "Synced" && size == want:
			return nil
		default:
			last = fmt.Errorf("%s in a cluster of %d, want Synced in %d", state, size, want)
		}
		if !c.nodes[i].proc.running() {
			return fmt.Errorf("node %d exited: %v\n%s", i+1, last, c.nodes[i].proc.logTail())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %d did not join the cluster: %v\n%s", i+1, last, c.nodes[i].proc.logTail())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// nodeStatus reads a node's Galera state and the number of nodes it sees.
func nodeStatus(ctx context.Context, db *sql.DB) (state string, size int, err error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var name, sizeText string
	if err := db.QueryRowContext(ctx, "SHOW STATUS LIKE 'wsrep_local_state_comment'").Scan(&name, &state); err != nil {
		return "", 0, err
	}
	if err := db.QueryRowContext(ctx, "SHOW STATUS LIKE 'wsrep_cluster_size'").Scan(&name, &sizeText); err != nil {
		return "", 0, err
	}
	size, err = strconv.Atoi(sizeText)
	return state, size, err
}

// Size returns the number of nodes.
func (c *Cluster) Size() int { return len(c.nodes) }

// NodeURL returns the ratchet URL of database name on node i (from 0), as root.
func (c *Cluster) NodeURL(i int, name string) string {
	return fmt.Sprintf("mysql://root@127.0.0.1:%d/%s", c.nodes[i].port, name)
}

// CreateDB creates a fresh database `ratchet_t_<random>` through node 0, which the cluster
// replicates to every node, and returns its name.
func (c *Cluster) CreateDB() (string, error) {
	db, err := Connect(c.NodeURL(0, "mysql"))
	if err != nil {
		return "", err
	}
	defer db.Close()
	name := "ratchet_t_" + randomSuffix()
	_, err = db.Exec("CREATE DATABASE " + c.Dialect.Ident(name) + " CHARACTER SET utf8mb4")
	return name, err
}

// Kill kills node i with SIGKILL, as a crash would; the others keep the cluster's quorum.
func (c *Cluster) Kill(i int) error {
	ctx, cancel := context.WithTimeout(context.Background(), serverTimeout)
	defer cancel()
	return c.nodes[i].proc.kill(ctx)
}

// Restart starts node i again after [Cluster.Kill] and waits until it has rejoined (it takes
// a state transfer from a surviving node) and every node is synced.
func (c *Cluster) Restart(i int) error {
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if err := c.startNode(ctx, i, false); err != nil {
		return err
	}
	for j := range c.nodes {
		if err := c.waitSynced(ctx, j); err != nil {
			return err
		}
	}
	return nil
}

// Stop kills every node and removes the cluster's files. It is safe on a cluster that did
// not start completely.
func (c *Cluster) Stop() error {
	var errs []error
	for i := range c.nodes {
		if err := c.Kill(i); err != nil {
			errs = append(errs, fmt.Errorf("node %d: %w", i+1, err))
		}
	}
	errs = append(errs, os.RemoveAll(c.dir))
	return errors.Join(errs...)
}

// freePorts returns n distinct TCP ports on 127.0.0.1 that nothing listens on now.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// chownTree gives dir and everything under it to the named system user.
func chownTree(dir, name string) error {
	return filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return chownTo(path, name)
	})
}

// shared is the cluster of a test binary: started by the first test that needs one, stopped
// by the package's TestMain ([StopSharedCluster]).
var shared struct {
	sync.Mutex
	c   *Cluster
	err error
}

// SharedCluster returns a three-node Galera cluster for the tests of a package, starting it
// on first use. A test that kills a node restarts it before it ends. Without what a cluster
// needs, the test is skipped loudly, or fails when RATCHET_TEST_REQUIRE_SERVERS=1. The
// package's TestMain must call [StopSharedCluster].
func SharedCluster(t testing.TB) *Cluster {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if shared.c == nil && shared.err == nil {
		if err := ClusterAvailable(); err != nil {
			unavailable(t, "galera cluster: %v", err)
		}
		start := time.Now()
		shared.c, shared.err = StartCluster(3)
		t.Logf("testdb: a 3-node Galera cluster formed in %v", time.Since(start).Round(time.Millisecond))
	}
	if shared.err != nil {
		t.Fatalf("testdb: starting a galera cluster: %v", shared.err)
	}
	return shared.c
}

// StopSharedCluster stops the cluster [SharedCluster] started, if any.
func StopSharedCluster() error {
	shared.Lock()
	defer shared.Unlock()
	if shared.c == nil {
		return nil
	}
	err := shared.c.Stop()
	shared.c = nil
	return err
}
