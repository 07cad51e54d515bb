// Command ratchet is the forward-only schema migration manager. See the README and
// `ratchet --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/go-sql-driver/mysql" // driver "mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite"

	"github.com/ratchetdb/ratchet/cli"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	// The first Ctrl-C cancels the context: the running version rolls back and ratchet exits
	// 130. Once the context is done, the default handler is back, so a second Ctrl-C kills.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }()
	os.Exit(cli.New(cli.WithVersion(version)).Run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
