// Package repository loads and validates a schema repository in the
// sqlalchemy-migrate format and picks the script that runs each version on
// each database dialect.
//
// A repository is a directory, or the root of any [io/fs.FS], holding
// migrate.cfg and versions/:
//
//	migrate.cfg                               [db_settings] repository_id=…
//	versions/001_create_images_default_upgrade.sql
//	versions/002_add_tags_default_upgrade.sql
//	versions/002_add_tags_sqlite_upgrade.sql  used instead of default on SQLite
//
// Script names start with the version number (at least three digits) and,
// for SQL, end in _<database>_<operation>.sql. For one dialect a version
// resolves to the SQL script for that dialect, else the "default" SQL script,
// else a Go migration registered with [Repository.Register], else a legacy
// .py script, which ratchet refuses to run. Downgrade scripts are read but
// never run. Entries the legacy tool ignored (fewer than three digits, other
// extensions) are ignored here too and listed by [Repository.Ignored] and
// [Repository.Lint]; names the legacy tool guessed at (two SQL files for the
// same version, database and operation, two .py files for one version) are
// an [*Error].
//
// A service usually embeds its repository in its binary:
//
//	//go:embed migrations
//	var migrations embed.FS
//
//	func loadRepository() (*repository.Repository, error) {
//		sub, err := fs.Sub(migrations, "migrations")
//		if err != nil {
//			return nil, err
//		}
//		repo, err := repository.Load(sub)
//		if err != nil {
//			return nil, err
//		}
//		err = repo.Register(repository.GoMigration{Version: 7, Name: "backfill_image_tags", Up: backfillImageTags})
//		return repo, err
//	}
//
// embed leaves out names starting with "." or "_", such as __init__.py, which
// are ignored anyway.
//
// [Init] and [NewScript] create a repository and its next script on disk.
package repository
