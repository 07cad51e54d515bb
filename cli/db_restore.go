package cli

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ratchetdb/ratchet/backup"
	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/dburl"
)

type restoreFlags struct{ yes bool }

func newDBRestoreCmd(g *globals) *cobra.Command {
	var f restoreFlags
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Replace the database's content with a backup made by db backup",
		Long: `Replace the database's content with the backup FILE, then print the version the database
is at now. This is the way back from an upgrade: downgrades are not supported.

Safety checks, all made before anything changes: the whole file is read and its manifest,
size and SHA-256 checked (a truncated or foreign file, or one whose payload or manifest was
modified, is refused, exit 2); a backup of another dialect or of another repository
(repository_id) is refused (exit 2); the restore tools must be installed, and an SQLite file
must not be in use (a -wal or hot -journal beside it). A database that is not empty is
replaced only once confirmed: on a terminal you are asked; otherwise --yes is required (exit 2
without it).

The database may be another one than the backup's (--database): a missing PostgreSQL or
MariaDB/MySQL database is created, as db sync does, and dropped again if the restore fails;
a missing SQLite file is written by the restore itself.
SQLite: the file is replaced atomically (stop the programs using it first). PostgreSQL:
everything outside the system schemas is dropped and the backup restored by pg_restore and
psql in one transaction, so that a failure changes nothing. MariaDB/MySQL: the database's
tables, views, routines and events are dropped and the dump run by the mariadb client; MySQL
cannot roll DDL back, so a restore that fails part way must be run again.`,
		Example: "  ratchet db restore /var/backups/glance/glance-v41-20250101T120000Z.ratchet-backup\n" +
			"  ratchet db restore before.ratchet-backup --database postgresql://glance@db/glance_copy --yes",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDBRestore(cmd, g, args[0], f)
		},
	}
	cmd.Flags().BoolVarP(&f.yes, "yes", "y", false, "replace the content of a database that is not empty without asking")
	return cmd
}

func runDBRestore(cmd *cobra.Command, g *globals, path string, f restoreFlags) error {
	ctx := cmd.Context()
	s, err := g.openSession(ctx, true)
	if err != nil {
		return err
	}
	defer s.Close()
	man, err := backup.Verify(path)
	if err != nil {
		return restoreError(err)
	}
	if err := man.CheckTarget(path, s.db.dialect, s.repo.ID()); err != nil {
		return usageError(err)
	}
	if err := backup.CheckRestore(backupDatabase(s.db)); err != nil {
		return restoreError(err)
	}
	created := false
	if s.db.absent && s.db.dialect.CreatesDatabases() {
		if err := s.db.create(ctx); err != nil {
			return err
		}
		created = true
	}
	m, err := g.migrator(s)
	if err != nil {
		return err
	}
	// Under the migration lock: a restore's DROPs must not interleave with a migration.
	err = m.Exclusive(ctx, func(ctx context.Context) error {
		if !s.db.absent && !created && !f.yes {
			contents, err := backup.Contents(ctx, backupDatabase(s.db))
			if err != nil {
				return fmt.Errorf("%s: listing what the restore would replace: %w", s.db.url, err)
			}
			if len(contents) > 0 {
				if err := g.confirmRestore(cmd, s, path, man, contents); err != nil {
					return err
				}
			}
		}
		target := backupDatabase(s.db)
		if s.db.dialect == dialect.SQLite {
			// The file is replaced: no connection may stay open on the old one.
			if err := s.db.Close(); err != nil {
				return err
			}
			s.db.DB, target.DB = nil, nil
		}
		_, err := backup.Restore(ctx, target, path, s.repo.ID())
		return err
	})
	if err != nil {
		err = restoreError(err)
		if created {
			// The database exists only for this restore: a failed restore leaves none.
			if derr := dropCreated(context.WithoutCancel(ctx), s.db); derr != nil {
				return fmt.Errorf("%w; the database %q created for the restore could not be removed: %v", err, s.db.url.Database, derr)
			}
			return fmt.Errorf("%w; the database %q created for the restore was removed", err, s.db.url.Database)
		}
		return err
	}
	v, err := g.versionNow(cmd)
	if err != nil {
		return fmt.Errorf("restored %s, but cannot read the version now: %w", path, err)
	}
	doc := map[string]any{"path": path, "manifest": man, "version": v}
	return g.print(s.settings, doc, fmt.Sprintf("restored %s (taken %s at version %d); the database is now at version %d",
		path, man.CreatedAt.Format("2006-01-02 15:04:05 UTC"), man.Version, v))
}

// restoreError marks a backup that cannot be used as bad input (exit 2).
func restoreError(err error) error {
	if errors.Is(err, backup.ErrNotBackup) || errors.Is(err, backup.ErrCorrupt) || errors.Is(err, backup.ErrMismatch) || errors.Is(err, os.ErrNotExist) {
		return usageError(err)
	}
	return err
}

// confirmRestore asks on the terminal whether to replace the database's content, and
// refuses when there is no terminal to ask.
func (g *globals) confirmRestore(cmd *cobra.Command, s *session, path string, man *backup.Manifest, contents []string) error {
	what := describeContents(contents)
	in := cmd.InOrStdin()
	if !isTerminal(in) {
		return usageErrorf("%s is not empty (%s): restoring %s replaces its content; pass --yes to confirm (stdin is not a terminal to ask on)", s.db.url, what, path)
	}
	fmt.Fprintf(g.stderr, "Restore %s (version %d, taken %s) into %s?\nThis replaces the database's content (%s). Type yes to continue: ",
		path, man.Version, man.CreatedAt.Format("2006-01-02 15:04:05 UTC"), s.db.url, what)
	answer, _ := bufio.NewReader(in).ReadString('\n')
	if !strings.EqualFold(strings.TrimSpace(answer), "yes") {
		return usageErrorf("restore cancelled: the answer was not yes; nothing changed")
	}
	return nil
}

// describeContents lists a few of the database's tables for a message.
func describeContents(contents []string) string {
	const shown = 5
	if len(contents) <= shown {
		return fmt.Sprintf("%d tables and views: %s", len(contents), strings.Join(contents, ", "))
	}
	return fmt.Sprintf("%d tables and views: %s, …", len(contents), strings.Join(contents[:shown], ", "))
}

// versionNow opens the database afresh and reads its version.
func (g *globals) versionNow(cmd *cobra.Command) (int, error) {
	s, err := g.openSession(cmd.Context(), false)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	m, err := g.migrator(s)
	if err != nil {
		return 0, err
	}
	return m.Version(cmd.Context())
}

// dropCreated removes the server database the command created, once a restore into it
// has failed.
func dropCreated(ctx context.Context, db *database) error {
	if err := db.Close(); err != nil {
		return err
	}
	db.DB = nil
	admin, err := db.url.WithDatabase(db.dialect.MaintenanceDatabase())
	if err != nil {
		return err
	}
	conn, err := sql.Open(db.driver.Name(), admin.DSN(dburl.DSNOptions{}))
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "DROP DATABASE "+db.dialect.Ident(db.url.Database))
	return err
}
