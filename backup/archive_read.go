package backup

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxManifestSize bounds the manifest entry: a real one is a few hundred bytes.
const maxManifestSize = 1 << 20

// payloadPrefix starts the name of the payload entry ("payload.sqlite", "payload.pgdump", …).
const payloadPrefix = "payload."

// Verify reads the whole backup file at path and checks that it is a complete ratchet backup
// whose payload has the size and SHA-256 its manifest records. It returns the manifest, or a
// [*FileError] wrapping [ErrNotBackup] or [ErrCorrupt].
func Verify(path string) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return verify(path, f)
}

// verify checks the backup read from r (see [Verify]); path names it in errors.
func verify(path string, r io.Reader) (*Manifest, error) {
	counted := &countingReader{r: r}
	tr := tar.NewReader(counted)
	hdr, err := tr.Next()
	if err != nil || hdr.Typeflag != tar.TypeReg || !strings.HasPrefix(hdr.Name, payloadPrefix) {
		return nil, &FileError{Path: path, Reason: "not a ratchet backup (no backup payload at its start)", Err: ErrNotBackup}
	}
	sum := sha256.New()
	n, err := io.Copy(sum, tr)
	if err != nil {
		return nil, corrupt(path, "truncated: the payload ends after %d of %d bytes", n, hdr.Size)
	}
	mhdr, err := tr.Next()
	switch {
	case errors.Is(err, io.EOF):
		return nil, corrupt(path, "truncated: the manifest is missing")
	case err != nil:
		return nil, corrupt(path, "damaged after the payload: %v", err)
	case mhdr.Name != manifestName || mhdr.Typeflag != tar.TypeReg:
		return nil, &FileError{Path: path, Reason: fmt.Sprintf("not a ratchet backup (entry %q where %s belongs)", mhdr.Name, manifestName), Err: ErrNotBackup}
	case mhdr.Size > maxManifestSize:
		return nil, corrupt(path, "the manifest is %d bytes, more than a manifest can be", mhdr.Size)
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		return nil, corrupt(path, "truncated: the manifest ends after %d of %d bytes", len(data), mhdr.Size)
	}
	m := new(Manifest)
	if err := json.Unmarshal(data, m); err != nil {
		return nil, corrupt(path, "the manifest is not valid JSON: %v", err)
	}
	if !strings.HasPrefix(m.Format, "ratchet-backup/") {
		return nil, &FileError{Path: path, Reason: fmt.Sprintf("not a ratchet backup (manifest format %q)", m.Format), Err: ErrNotBackup}
	}
	if err := m.validate(); err != nil {
		return nil, corrupt(path, "%v", err)
	}
	switch _, err := tr.Next(); {
	case err == nil:
		return nil, corrupt(path, "unexpected entry after the manifest")
	case !errors.Is(err, io.EOF):
		return nil, corrupt(path, "truncated or damaged after the manifest: %v", err)
	case counted.n < 4*blockSize+padded(n)+padded(mhdr.Size): // two headers, two end blocks
		// tar readers accept an archive that ends in the padding or the end marker.
		return nil, corrupt(path, "truncated after the manifest")
	}
	if m.Payload != hdr.Name {
		return nil, corrupt(path, "the payload is %q but the manifest says %q", hdr.Name, m.Payload)
	}
	if n != m.Size {
		return nil, corrupt(path, "the payload is %d bytes but the manifest says %d", n, m.Size)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != m.SHA256 {
		return nil, corrupt(path, "checksum mismatch: the payload's SHA-256 is %s but the manifest records %s (the file was modified after it was written)", got, m.SHA256)
	}
	if m.Format != formatV1 && m.ManifestSHA256 != m.Checksum() {
		return nil, corrupt(path, "manifest checksum mismatch: %s was modified after the backup was written (its fields do not match its manifest_sha256)", manifestName)
	}
	return m, nil
}

func corrupt(path, format string, args ...any) *FileError {
	return &FileError{Path: path, Reason: fmt.Sprintf(format, args...), Err: ErrCorrupt}
}

// payloadReader returns a reader of the payload of the backup read from r, which [verify]
// has accepted.
func payloadReader(path string, r io.Reader) (io.Reader, error) {
	tr := tar.NewReader(r)
	hdr, err := tr.Next()
	if err != nil || !strings.HasPrefix(hdr.Name, payloadPrefix) {
		return nil, corrupt(path, "the payload can no longer be read")
	}
	return tr, nil
}

// padded returns n rounded up to whole blocks.
func padded(n int64) int64 { return (n + blockSize - 1) / blockSize * blockSize }

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

// Read reads from the underlying reader and counts.
func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
