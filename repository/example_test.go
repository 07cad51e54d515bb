package repository_test

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log"
	"testing/fstest"

	"github.com/ratchetdb/ratchet/repository"
)

func Example() {
	// An embed.FS works the same way; use fs.Sub to reach its root.
	fsys := fstest.MapFS{
		"migrate.cfg": {Data: []byte("[db_settings]\nrepository_id=Glance Migrations\n")},
		"versions/001_create_images_default_upgrade.sql": {Data: []byte("CREATE TABLE images (id VARCHAR(36));\n")},
		"versions/002_add_tags_default_upgrade.sql":      {Data: []byte("ALTER TABLE images ADD COLUMN tags TEXT;\n")},
		"versions/002_add_tags_sqlite_upgrade.sql":       {Data: []byte("ALTER TABLE images ADD tags TEXT;\n")},
		"versions/__init__.py":                           {},
		"versions/03_typo_default_upgrade.sql":           {Data: []byte("SELECT 1;\n")},
	}
	repo, err := repository.Load(fsys)
	if err != nil {
		log.Fatal(err)
	}
	backfill := func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE images SET tags = ''")
		return err
	}
	if err := repo.Register(repository.GoMigration{Version: 3, Name: "backfill_tags", Up: backfill}); err != nil {
		log.Fatal(err)
	}

	fmt.Println(repo.ID(), repo.VersionTable(), repo.Latest())
	for _, v := range repo.Versions() {
		for _, dbms := range []string{"sqlite", "postgresql"} {
			s, _, err := repo.Script(v, dbms, "upgrade")
			if err != nil {
				log.Fatal(err)
			}
			fmt.Println(v, dbms, s.Kind, s.Path)
		}
	}
	for _, f := range repo.Lint() {
		fmt.Println(f)
	}
	// Output:
	// Glance Migrations migrate_version 3
	// 1 sqlite sql versions/001_create_images_default_upgrade.sql
	// 1 postgresql sql versions/001_create_images_default_upgrade.sql
	// 2 sqlite sql versions/002_add_tags_sqlite_upgrade.sql
	// 2 postgresql sql versions/002_add_tags_default_upgrade.sql
	// 3 sqlite go go:backfill_tags
	// 3 postgresql go go:backfill_tags
	// versions/03_typo_default_upgrade.sql: warning: ignored: version number has fewer than 3 digits (write 001, not 1)
}

func ExampleLoad_sub() {
	// A repository in a subdirectory, as in an embed.FS with
	// //go:embed migrations.
	embedded := fstest.MapFS{
		"migrations/migrate.cfg":                           {Data: []byte("[db_settings]\nrepository_id=svc\n")},
		"migrations/versions/001_init_default_upgrade.sql": {Data: []byte("CREATE TABLE t (id INT);\n")},
	}
	sub, err := fs.Sub(embedded, "migrations")
	if err != nil {
		log.Fatal(err)
	}
	repo, err := repository.Load(sub)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(repo.ID(), repo.Latest())
	// Output: svc 1
}
