package backup

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/dialect"
)

// writeArchive writes a backup file holding payload with the archive writer, as Create does,
// and returns its path and manifest.
func writeArchive(t *testing.T, payload []byte) (string, *Manifest) {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "x"+Extension)
	w, err := newArchiveWriter(dest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(payload); err != nil {
		t.Fatal(err)
	}
	m := &Manifest{Format: Format, Dialect: "sqlite", Database: "x.db", RepositoryID: "repo",
		Version: 3, CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Payload: "payload.sqlite"}
	if err := w.finish(m); err != nil {
		t.Fatal(err)
	}
	if err := publish(w.tmp, dest); err != nil {
		t.Fatal(err)
	}
	return dest, m
}

func TestArchiveRoundTrip(t *testing.T) {
	for _, size := range []int{0, 1, blockSize - 1, blockSize, blockSize + 1, 100_000} {
		payload := bytes.Repeat([]byte("ab\x00c"), size)[:size]
		path, want := writeArchive(t, payload)
		got, err := Verify(path)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if *got != *want || got.Size != int64(size) {
			t.Errorf("size %d: manifest read back %+v, want %+v", size, got, want)
		}
		// Ordinary tar readers see the same two entries.
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := payloadReader(path, f)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(r); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if !bytes.Equal(buf.Bytes(), payload) {
			t.Errorf("size %d: payload read back differs", size)
		}
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("size %d: mode %v, %v; want 0600", size, info.Mode(), err)
		}
	}
}

func TestVerifyTruncated(t *testing.T) {
	payload := bytes.Repeat([]byte("payload "), 1000) // 8000 bytes: 16 blocks when padded
	path, _ := writeArchive(t, payload)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	payloadEnd := blockSize + 8192
	cuts := map[string]int{
		"in the payload header":   100,
		"in the payload":          blockSize + 3000,
		"at the payload's end":    payloadEnd,
		"in the manifest header":  payloadEnd + 10,
		"in the manifest":         payloadEnd + blockSize + 20,
		"in the manifest padding": payloadEnd + blockSize + 500,
	}
	for name, n := range cuts {
		cut := filepath.Join(t.TempDir(), "cut")
		if err := os.WriteFile(cut, data[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Verify(cut)
		var fe *FileError
		if !errors.As(err, &fe) || (n > blockSize && !errors.Is(err, ErrCorrupt)) {
			t.Errorf("cut %s (%d bytes): err = %v, want a corrupt backup", name, n, err)
		}
	}
}

func TestVerifyTampered(t *testing.T) {
	path, _ := writeArchive(t, []byte(strings.Repeat("CREATE TABLE t (id INTEGER);\n", 50)))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[blockSize+7] ^= 1
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Verify(path)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("err = %v, want a checksum mismatch", err)
	}
}

func TestVerifyManifestSizeMismatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "b")
	manifest := `{"format":"ratchet-backup/1","dialect":"sqlite","payload":"payload.sqlite","size":4,` +
		`"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}`
	writeTar(t, path, [][2]string{{"payload.sqlite", "abc"}, {manifestName, manifest}})
	_, err := Verify(path)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "payload is 3 bytes but the manifest says 4") {
		t.Fatalf("err = %v, want a size mismatch", err)
	}
}

func TestVerifyNotBackup(t *testing.T) {
	dir := t.TempDir()
	files := map[string]func(path string){
		"empty":  func(p string) { os.WriteFile(p, nil, 0o600) },
		"text":   func(p string) { os.WriteFile(p, []byte("CREATE TABLE t (id INTEGER);\n"), 0o600) },
		"sqlite": func(p string) { os.WriteFile(p, append([]byte("SQLite format 3\x00"), make([]byte, 4080)...), 0o600) },
		"tar":    func(p string) { writeTar(t, p, [][2]string{{"README", "hello"}}) },
		"format": func(p string) {
			writeTar(t, p, [][2]string{{"payload.sql", "x"}, {manifestName, `{"format":"other"}`}})
		},
		"entries": func(p string) { writeTar(t, p, [][2]string{{"payload.sql", "x"}, {"notes.txt", "x"}}) },
	}
	for name, write := range files {
		path := filepath.Join(dir, name)
		write(path)
		if _, err := Verify(path); !errors.Is(err, ErrNotBackup) {
			t.Errorf("%s: err = %v, want ErrNotBackup", name, err)
		}
	}
}

// writeTar writes a tar archive of the given (name, content) entries.
func writeTar(t *testing.T, path string, entries [][2]string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e[0], Mode: 0o600, Size: int64(len(e[1]))}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e[1]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestHeaderBlockLargeSize(t *testing.T) {
	const size = 20 << 30 // beyond the 8 GiB of a classic tar header
	hdr, err := headerBlock("payload.pgdump", size, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tar.NewReader(bytes.NewReader(hdr)).Next()
	if err != nil {
		t.Fatal(err)
	}
	if got.Size != size || got.Name != "payload.pgdump" {
		t.Fatalf("header reads back as %q, %d bytes", got.Name, got.Size)
	}
}

func TestCheckTarget(t *testing.T) {
	m := &Manifest{Dialect: "postgresql", RepositoryID: "glance"}
	if err := m.CheckTarget("b", dialect.Postgres, "glance"); err != nil {
		t.Errorf("same dialect and repository: %v", err)
	}
	err := m.CheckTarget("b", dialect.SQLite, "glance")
	var me *MismatchError
	if !errors.As(err, &me) || me.Field != "dialect" || !errors.Is(err, ErrMismatch) ||
		err.Error() != "b is a backup of a postgresql database; it cannot be restored into a sqlite database" {
		t.Errorf("other dialect: %v", err)
	}
	err = m.CheckTarget("b", dialect.Postgres, "nova")
	if !errors.As(err, &me) || me.Field != "repository" || !strings.Contains(err.Error(), `repository "glance", not for this repository "nova"`) {
		t.Errorf("other repository: %v", err)
	}
}

func TestFileName(t *testing.T) {
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
	tests := map[string]string{
		"glance":                 "glance-v12-20250304T040607Z.ratchet-backup",
		"/var/lib/glance.sqlite": "glance-v12-20250304T040607Z.ratchet-backup",
		"my db/é":                "_-v12-20250304T040607Z.ratchet-backup",
		"":                       "database-v12-20250304T040607Z.ratchet-backup",
		"a b*c":                  "a_b_c-v12-20250304T040607Z.ratchet-backup",
	}
	for in, want := range tests {
		if got := FileName(in, 12, at); got != want {
			t.Errorf("FileName(%q) = %q, want %q", in, got, want)
		}
	}
}

// rewriteManifest replaces the manifest of the backup at path by what edit makes of it,
// keeping the payload, as someone editing manifest.json with tar would.
func rewriteManifest(t *testing.T, path string, edit func(m map[string]any)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var entries [][2]string
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(tr); err != nil {
			t.Fatal(err)
		}
		data := buf.String()
		if hdr.Name == manifestName {
			var m map[string]any
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			edit(m)
			out, err := json.MarshalIndent(m, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			data = string(out) + "\n"
		}
		entries = append(entries, [2]string{hdr.Name, data})
	}
	writeTar(t, path, entries)
}

// TestVerifyManifestEdited: a change to any field of the manifest is refused, whatever the
// payload's checksum says, while a manifest rewritten with the same values passes.
func TestVerifyManifestEdited(t *testing.T) {
	edits := map[string]func(m map[string]any){
		"version":         func(m map[string]any) { m["version"] = 5 },
		"repository":      func(m map[string]any) { m["repository_id"] = "other" },
		"database":        func(m map[string]any) { m["database"] = "y.db" },
		"created_at":      func(m map[string]any) { m["created_at"] = "2025-01-02T03:04:06Z" },
		"checksum gone":   func(m map[string]any) { delete(m, "manifest_sha256") },
		"checksum zeroed": func(m map[string]any) { m["manifest_sha256"] = strings.Repeat("0", 64) },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			path, _ := writeArchive(t, []byte("payload bytes"))
			rewriteManifest(t, path, edit)
			_, err := Verify(path)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "manifest checksum mismatch: manifest.json was modified") {
				t.Fatalf("err = %v, want a manifest checksum mismatch", err)
			}
		})
	}
	t.Run("same values", func(t *testing.T) {
		path, want := writeArchive(t, []byte("payload bytes"))
		rewriteManifest(t, path, func(map[string]any) {})
		got, err := Verify(path)
		if err != nil || *got != *want {
			t.Fatalf("Verify = %+v, %v; want %+v", got, err, want)
		}
	})
	t.Run("dialect", func(t *testing.T) {
		path, _ := writeArchive(t, []byte("payload bytes"))
		rewriteManifest(t, path, func(m map[string]any) { m["dialect"] = "postgresql" })
		if _, err := Verify(path); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
	})
}

// TestVerifyFormatV1 reads a backup written before manifests had a checksum.
func TestVerifyFormatV1(t *testing.T) {
	path, want := writeArchive(t, []byte("payload bytes"))
	rewriteManifest(t, path, func(m map[string]any) {
		m["format"] = formatV1
		delete(m, "manifest_sha256")
	})
	got, err := Verify(path)
	if err != nil || got.Version != want.Version || got.Format != formatV1 || got.ManifestSHA256 != "" {
		t.Fatalf("Verify = %+v, %v; want the manifest of format 1", got, err)
	}
}

// TestPublishConcurrent publishes many finished files under one name at once: exactly one
// takes it, the others fail with fs.ErrExist and keep nothing, and the name holds the
// winner's content.
func TestPublishConcurrent(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "b"+Extension)
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		tmp := filepath.Join(dir, fmt.Sprintf(".tmp%d", i))
		if err := os.WriteFile(tmp, []byte(strconv.Itoa(i)), 0o600); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { errs[i] = publish(tmp, dest) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("publish %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, fs.ErrExist):
			t.Fatalf("publish %d: %v, want fs.ErrExist", i, err)
		}
	}
	if data, err := os.ReadFile(dest); err != nil || string(data) != strconv.Itoa(winner) {
		t.Fatalf("%s holds %q (%v), want the winner's %d", dest, data, err, winner)
	}
	for i := range n {
		_, err := os.Stat(filepath.Join(dir, fmt.Sprintf(".tmp%d", i)))
		if i == winner && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the winner's temporary file is still there (%v)", err)
		}
	}
}
