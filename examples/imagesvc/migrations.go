// Package imagesvc is a small image-metadata service's database layer, as an example of
// embedding a ratchet repository in a Go service: the SQL scripts of migrate_repo/ are
// compiled into the binary, the service adds a Go migration for a data backfill that SQL
// alone does badly, and version 8 is a rolling version (images.status renamed images.state)
// that the previous release keeps writing while the nodes are upgraded one by one.
package imagesvc

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/repository"
)

//go:embed migrate_repo/migrate.cfg migrate_repo/versions/*.sql
var files embed.FS

// Repository returns the service's migration repository: the embedded SQL scripts (versions
// 1 to 6 as upgrade scripts, version 8 as expand, migrate and contract scripts, which the
// same pattern picks up) and the Go migration of version 7.
func Repository() (*repository.Repository, error) {
	sub, err := fs.Sub(files, "migrate_repo")
	if err != nil {
		return nil, err
	}
	repo, err := repository.Load(sub)
	if err != nil {
		return nil, err
	}
	err = repo.Register(repository.GoMigration{
		Version: 7,
		Name:    "backfill_image_locations",
		Up:      backfillImageLocations,
	})
	if err != nil {
		return nil, err
	}
	return repo, nil
}

// backfillImageLocations moves the legacy images.location URL of every image into
// image_locations (created by version 5), recording the store the URL points at. It runs in
// the version's transaction: it is applied entirely or not at all.
func backfillImageLocations(ctx context.Context, tx *sql.Tx) error {
	d, ok := dialect.FromContext(ctx)
	if !ok {
		return errors.New("backfill: no dialect in the context")
	}
	rows, err := tx.QueryContext(ctx,
		"SELECT id, location FROM images WHERE location IS NOT NULL AND location <> ''")
	if err != nil {
		return err
	}
	type image struct{ id, location string }
	var images []image
	for rows.Next() {
		var im image
		if err := rows.Scan(&im.id, &im.location); err != nil {
			rows.Close()
			return err
		}
		images = append(images, im)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	insert := fmt.Sprintf(`INSERT INTO image_locations
(image_id, position, url, meta_data, status, created_at, deleted)
VALUES (%s, 0, %s, %s, 'active', %s, %s)`, d.Param(1), d.Param(2), d.Param(3), d.Param(4), d.Param(5))
	now := time.Now().UTC()
	for _, im := range images {
		meta, err := locationMetadata(im.location)
		if err != nil {
			return fmt.Errorf("image %s: %w", im.id, err)
		}
		if _, err := tx.ExecContext(ctx, insert, im.id, im.location, meta, now, false); err != nil {
			return fmt.Errorf("image %s: %w", im.id, err)
		}
	}
	return nil
}

// locationMetadata describes a location URL as JSON: its store (the URL scheme) and
// whether it embeds credentials, which operators should rotate.
func locationMetadata(location string) (string, error) {
	u, err := url.Parse(location)
	if err != nil {
		return "", fmt.Errorf("location is not a URL: %w", err)
	}
	meta := map[string]any{"store": u.Scheme}
	if _, ok := u.User.Password(); ok {
		meta["has_credentials"] = true
	}
	b, err := json.Marshal(meta)
	return string(b), err
}
