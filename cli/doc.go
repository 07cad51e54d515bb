// Package cli is ratchet's command line as a library: the cobra command tree of
// `ratchet db …` and `ratchet repo …`, the global options and their precedence
// (flag > environment > config file > default), text and JSON rendering, and exit codes.
//
// A service builds its own `<service>-manage` from its embedded repository. The program
// imports ratchet's driver packages for the databases it supports and passes them to
// [WithDrivers]; without one, a URL of that database fails with an error naming the missing
// import.
//
//	import (
//		"github.com/ratchetdb/ratchet/drivers/mysqldriver"  // mysql:// and mariadb:// URLs
//		"github.com/ratchetdb/ratchet/drivers/pgxdriver"    // postgresql:// URLs
//		"github.com/ratchetdb/ratchet/drivers/sqlitedriver" // sqlite:// URLs
//		…
//	)
//
//	//go:embed migrate_repo
//	var migrations embed.FS
//
//	func main() {
//		os.Exit(run()) // after run's deferred calls, which os.Exit would skip
//	}
//
//	func run() int {
//		sub, err := fs.Sub(migrations, "migrate_repo")
//		if err != nil {
//			log.Print(err)
//			return cli.ExitUsage
//		}
//		repo, err := repository.Load(sub)
//		if err != nil {
//			log.Print(err)
//			return cli.ExitUsage
//		}
//		app := cli.New(cli.WithName("glance-manage"), cli.WithRepository(repo),
//			cli.WithDrivers(sqlitedriver.New(), pgxdriver.New(), mysqldriver.New()))
//		// The first Ctrl-C rolls the running version back; the run returns ExitInterrupted.
//		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//		defer stop()
//		return app.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
//	}
//
// examples/imagesvc is a complete one, and cmd/ratchet the general-purpose command.
package cli
