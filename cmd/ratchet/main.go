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

	"github.com/go-sql-driver/mysql"   // driver "mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite"

	"github.com/ratchetdb/ratchet/cli"
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
	// The first Ctrl-C cancels the context: the running version rolls back and ratchet exits
	// 130. Once the context is done, the default handler is back, so a second Ctrl-C kills.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }()
	os.Exit(cli.New(cli.WithVersion(version)).Run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
