// Package cli is ratchet's command line as a library: the cobra command tree of
// `ratchet db …` and `ratchet repo …`, the global options and their precedence
// (flag > environment > config file > default), text and JSON rendering, and exit codes.
//
// A service builds its own `<service>-manage` from its embedded repository:
//
//	//go:embed migrate_repo
//	var migrations embed.FS
//
//	func main() {
//		sub, _ := fs.Sub(migrations, "migrate_repo")
//		repo, err := repository.Load(sub)
//		if err != nil {
//			log.Fatal(err)
//		}
//		app := cli.New(cli.WithName("glance-manage"), cli.WithRepository(repo))
//		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
//		defer stop()
//		os.Exit(app.Run(ctx, os.Args[1:], os.Stdout, os.Stderr))
//	}
//
// The program must import the database drivers it supports (see cmd/ratchet).
package cli
