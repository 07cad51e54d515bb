// Command ratchet is the forward-only schema migration manager. See the README and
// `ratchet --help`.
package main

import (
	"context"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/go-sql-driver/mysql"
	"modernc.org/sqlite"

	"github.com/ratchetdb/ratchet/cli"
	"github.com/ratchetdb/ratchet/drivers/mysqldriver"
	"github.com/ratchetdb/ratchet/drivers/pgxdriver"
	"github.com/ratchetdb/ratchet/drivers/sqlitedriver"
)

// version is set at build time with -ldflags "-X main.version=…"; `go install …@vX` records
// it in the build info instead.
var version = "dev"

func init() {
	if info, ok := debug.ReadBuildInfo(); ok && version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		version = info.Main.Version
	}
}

func main() {
	// The MySQL driver logs connection trouble on its own; ratchet reports every error once,
	// as one line.
	mysql.SetLogger(log.New(io.Discard, "", 0))
	// Commit with fdatasync(2), as SQLite's own Linux builds do: it skips the timestamp
	// update fsync(2) forces and keeps a commit as durable. The switch is process-wide,
	// which suits a command; it reports an error only where fdatasync does not exist.
	_, _ = sqlite.Fdatasync(true)
	// The first Ctrl-C cancels the context: the running version rolls back and ratchet exits
	// 130. Once the context is done, the default handler is back, so a second Ctrl-C kills.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }()
	app := cli.New(cli.WithVersion(version), cli.WithDrivers(sqlitedriver.New(), pgxdriver.New(), mysqldriver.New()))
	os.Exit(app.Run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
