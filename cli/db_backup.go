package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ratchetdb/ratchet/backup"
	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/dburl"
)

type backupFlags struct{ out, dir string }

func newDBBackupCmd(g *globals) *cobra.Command {
	var f backupFlags
	cmd := &cobra.Command{
		Use:   "backup [--out FILE | --dir DIR]",
		Short: "Write a consistent backup of the database: the way back from an upgrade",
		Long: `Write a consistent backup of the whole database, which may be in use, and print its path.

SQLite is copied with VACUUM INTO, PostgreSQL dumped with pg_dump (custom format, Debian
package postgresql-client), MariaDB/MySQL with mariadb-dump or mysqldump
--single-transaction, routines, triggers and events included (Debian package mariadb-client).

The backup is one file, written with mode 0600 under a temporary name, verified, then linked
to its name: either it is complete or it is not there. It never replaces an existing file, not
even one written meanwhile by another backup. It carries a manifest (dialect, database,
repository id, version, creation time, size and SHA-256, and a checksum of the manifest itself)
that db restore checks. Without --out it is named <database>-v<version>-<UTC time>.ratchet-backup
in --dir, else in the config file's [ratchet] backup_dir, else in the current directory; when
another backup took that name in the same second, -2, -3, … is added before the extension.`,
		Example: "  ratchet db backup --dir /var/backups/glance\n  ratchet db backup --out before-upgrade.ratchet-backup\n  ratchet db backup --output json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDBBackup(cmd, g, f)
		},
	}
	cmd.Flags().StringVar(&f.out, "out", "", "write the backup to FILE, which must not exist")
	cmd.Flags().StringVar(&f.dir, "dir", "", "write the backup under its default name in DIR, created if missing (default: [ratchet] backup_dir, else the current directory)")
	return cmd
}

func runDBBackup(cmd *cobra.Command, g *globals, f backupFlags) error {
	if f.out != "" && f.dir != "" {
		return usageErrorf("--out and --dir exclude each other")
	}
	ctx := cmd.Context()
	s, err := g.openSession(ctx, false)
	if err != nil {
		return err
	}
	defer s.Close()
	if s.db.absent {
		return fmt.Errorf("%s: the database does not exist: there is nothing to back up", s.db.url)
	}
	m, err := g.migrator(s)
	if err != nil {
		return err
	}
	var path string
	var man *backup.Manifest
	// Under the migration lock: a dump must not see a migration half way (MariaDB's dump
	// fails with "Table definition has changed").
	err = m.Exclusive(ctx, func(ctx context.Context) error {
		v, err := m.Version(ctx)
		if err != nil {
			return err
		}
		path, man, err = g.writeBackup(ctx, s, v, f.out, pick(f.dir, s.backupDir, "."))
		return err
	})
	if err != nil {
		return err
	}
	return g.print(s.settings, map[string]any{"path": path, "manifest": man}, path)
}

// writeBackup writes a backup of the session's database, at version v, to the file out, or
// when out is empty under its default name in dir (a name of its own when concurrent
// backups start within the same second). It returns the absolute path.
func (g *globals) writeBackup(ctx context.Context, s *session, v int, out, dir string) (string, *backup.Manifest, error) {
	return g.writeBackupThrough(ctx, s, backupDatabase(s.db), v, out, dir)
}

// writeBackupThrough is writeBackup through the database handle of bd.
func (g *globals) writeBackupThrough(ctx context.Context, s *session, bd backup.Database, v int, out, dir string) (string, *backup.Manifest, error) {
	info := backup.Info{RepositoryID: s.repo.ID(), Version: v, RatchetVersion: g.app.version}
	if out == "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", nil, fmt.Errorf("backup directory: %w", err)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", nil, err
		}
		return backup.CreateIn(ctx, bd, abs, info)
	}
	path, err := filepath.Abs(out)
	if err != nil {
		return "", nil, err
	}
	man, err := backup.Create(ctx, bd, path, info)
	if errors.Is(err, fs.ErrExist) {
		return "", nil, usageErrorf("%s already exists: a backup never replaces a file (choose another --out, or --dir)", path)
	}
	return path, man, err
}

// backupDatabase describes the session's database for package backup.
func backupDatabase(db *database) backup.Database {
	u := db.url
	bd := backup.Database{
		Dialect:  db.dialect,
		Name:     u.Database,
		Host:     u.Host,
		Port:     u.Port,
		User:     u.User,
		Password: u.Password(),
	}
	if db.DB != nil {
		bd.DB = db.DB
	}
	switch db.dialect {
	case dialect.Postgres:
		// pgx's DSN is a URL holding every libpq keyword the user gave.
		if pu, err := url.Parse(u.DSN(dburl.DSNOptions{})); err == nil {
			bd.Params = map[string]string{}
			for k, vs := range pu.Query() {
				bd.Params[k] = vs[len(vs)-1]
			}
		}
	case dialect.MySQL:
		// The redacted form keeps the URL's own unix_socket parameter.
		if mu, err := url.Parse(u.String()); err == nil {
			bd.Socket = mu.Query().Get("unix_socket")
		}
	}
	return bd
}

// upgradeBackup is the backup taken before an upgrade.
type upgradeBackup struct {
	path    string
	version int
	restore string // the command that restores it
}

// backupBeforeUpgrade writes a backup to dir when dir is set and the upgrade to target has
// versions to apply, and prints its path.
func (g *globals) backupBeforeUpgrade(ctx context.Context, s *session, conn *sql.Conn, version int, dir string) (*upgradeBackup, error) {
	// Through the run's own connection: on SQLite it holds the file.
	bd := backupDatabase(s.db)
	bd.DB = conn
	path, _, err := g.writeBackupThrough(ctx, s, bd, version, "", dir)
	if err != nil {
		return nil, fmt.Errorf("nothing applied: the backup before upgrading failed: %w", err)
	}
	if !s.json {
		fmt.Fprintf(g.stdout, "backup of version %d written to %s\n", version, path)
	}
	return &upgradeBackup{path: path, version: version, restore: g.restoreCommand(s, path)}, nil
}

// explain ends the error of a failed upgrade with the command that restores the backup.
func (b *upgradeBackup) explain(err error) error {
	if b == nil {
		return err
	}
	return fmt.Errorf("%w; to go back to version %d, restore the backup taken before the upgrade: %s", err, b.version, b.restore)
}

// restoreCommand returns the command line that restores the backup at path into the
// session's database, the password redacted.
func (g *globals) restoreCommand(s *session, path string) string {
	words := []string{g.app.name, "db", "restore", shellQuote(path)}
	if g.app.repo == nil && s.repository != defaultRepository && s.repository != os.Getenv(envRepository) {
		words = append(words, "--repository", shellQuote(s.repository))
	}
	words = append(words, "--database", shellQuote(s.db.url.String()), "--yes")
	return strings.Join(words, " ")
}

// shellQuote returns s as one POSIX shell word.
func shellQuote(s string) string {
	safe := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@%+=,", r))
	}) < 0
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
