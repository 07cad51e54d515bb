// Command imagesvc-manage is the image service's database management command, built on
// ratchet's cli package with the service's embedded repository:
//
//	imagesvc-manage db sync
//	imagesvc-manage db version
//	imagesvc-manage --database postgresql://imagesvc@db/imagesvc db status
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-sql-driver/mysql"

	"github.com/ratchetdb/ratchet/cli"
	"github.com/ratchetdb/ratchet/drivers/mysqldriver"
	"github.com/ratchetdb/ratchet/drivers/pgxdriver"
	"github.com/ratchetdb/ratchet/drivers/sqlitedriver"
	"github.com/ratchetdb/ratchet/examples/imagesvc"
)

func main() {
	repo, err := imagesvc.Repository()
	if err != nil {
		fmt.Fprintln(os.Stderr, "imagesvc-manage:", err)
		os.Exit(cli.ExitUsage)
	}
	mysql.SetLogger(log.New(io.Discard, "", 0)) // errors are reported once, by the cli
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }()
	app := cli.New(
		cli.WithName("imagesvc-manage"),
		cli.WithRepository(repo),
		cli.WithDefaultDatabase("sqlite:///imagesvc.sqlite"),
		cli.WithDrivers(sqlitedriver.New(), pgxdriver.New(), mysqldriver.New()),
	)
	os.Exit(app.Run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
