package backup

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
)

// Format identifies the layout of a backup file; it is the manifest's "format" field.
// Version 2 adds manifest_sha256, which covers the manifest's own fields.
const Format = "ratchet-backup/2"

// formatV1 is the layout of backups written before the manifest had a checksum of its
// own; they are still restored, their payload checked as before.
const formatV1 = "ratchet-backup/1"

// Extension ends the name of every backup file [FileName] makes.
const Extension = ".ratchet-backup"

// manifestName is the name of the manifest entry in a backup file.
const manifestName = "manifest.json"

// Manifest describes a backup: what it was taken from, when, and the size and SHA-256 of its
// payload (the dump itself), which [Verify] checks before anything is restored.
type Manifest struct {
	Format         string    `json:"format"`          // always [Format]
	Dialect        string    `json:"dialect"`         // the dialect's name: sqlite, postgresql or mysql
	Database       string    `json:"database"`        // database name, or SQLite file path
	RepositoryID   string    `json:"repository_id"`   // migrate.cfg repository_id
	Version        int       `json:"version"`         // the database's version when the backup was taken
	RatchetVersion string    `json:"ratchet_version"` // the version of the program that took it
	CreatedAt      time.Time `json:"created_at"`      // UTC
	Tool           string    `json:"tool"`            // what made the payload, e.g. "pg_dump (PostgreSQL) 15.20"
	Payload        string    `json:"payload"`         // the payload entry's name in the file
	Size           int64     `json:"size"`            // the payload's size in bytes
	SHA256         string    `json:"sha256"`          // the payload's SHA-256, lower-case hex
	// ManifestSHA256 is the SHA-256, lower-case hex, of the manifest's other fields (see
	// [Manifest.Checksum]): an edit to the version, repository or dialect is detected
	// like an edit to the payload.
	ManifestSHA256 string `json:"manifest_sha256,omitempty"`
}

// Checksum returns the SHA-256, in lower-case hex, of the manifest's compact JSON
// encoding with ManifestSHA256 empty: what ManifestSHA256 records. It depends on the
// fields' values only, not on how the manifest file is laid out.
func (m *Manifest) Checksum() string {
	c := *m
	c.ManifestSHA256 = ""
	data, err := json.Marshal(&c)
	if err != nil {
		panic("backup: a Manifest always encodes: " + err.Error())
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Info is what the caller of [Create] knows about the database being backed up, recorded in
// the manifest.
type Info struct {
	RepositoryID   string
	Version        int
	RatchetVersion string
	// CreatedAt is the time recorded in the manifest; zero means now.
	CreatedAt time.Time
}

// CheckTarget returns a [*MismatchError] when a backup with this manifest, read from path,
// cannot be restored into a database of dialect d under the repository repositoryID.
func (m *Manifest) CheckTarget(path string, d dialect.Dialect, repositoryID string) error {
	if m.Dialect != d.Name() {
		return &MismatchError{Path: path, Field: "dialect", Backup: m.Dialect, Target: d.Name()}
	}
	if m.RepositoryID != repositoryID {
		return &MismatchError{Path: path, Field: "repository", Backup: m.RepositoryID, Target: repositoryID}
	}
	return nil
}

// validate checks the fields that every manifest written by [Create] has.
func (m *Manifest) validate() error {
	switch {
	case m.Format != Format && m.Format != formatV1:
		return fmt.Errorf("unknown backup format %q (this program reads %q and %q)", m.Format, Format, formatV1)
	case m.Dialect == "":
		return fmt.Errorf("manifest names no dialect")
	case m.Payload == "":
		return fmt.Errorf("manifest names no payload")
	case m.Size < 0:
		return fmt.Errorf("manifest gives a negative payload size %d", m.Size)
	case len(m.SHA256) != 64:
		return fmt.Errorf("manifest sha256 %q is not a SHA-256 in hex", m.SHA256)
	}
	if _, ok := dialect.ByName(m.Dialect); !ok {
		return fmt.Errorf("manifest names unknown dialect %q", m.Dialect)
	}
	return nil
}

// FileName returns the default name of a backup of database taken at version v at time t:
// "<database>-v<version>-<UTC timestamp>.ratchet-backup". An SQLite file path is reduced to
// its base name without extension, and characters other than letters, digits, '.', '-' and
// '_' become '_', so that the name is one safe path element.
func FileName(database string, v int, t time.Time) string {
	name := filepath.Base(database)
	if ext := filepath.Ext(name); ext != "" && ext != name {
		name = strings.TrimSuffix(name, ext)
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, name)
	if name == "" || name == "." || name == ".." {
		name = "database"
	}
	return fmt.Sprintf("%s-v%d-%s%s", name, v, t.UTC().Format("20060102T150405Z"), Extension)
}
