package backup

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// blockSize is the tar block size: headers and padded entries are multiples of it.
const blockSize = 512

// archiveWriter writes a backup file under a temporary name in the destination's directory:
// a tar archive whose first entry is the payload, streamed as the dump tool produces it, and
// whose second is the manifest. The payload's header, which must hold its size, is written
// last, over a block reserved for it.
type archiveWriter struct {
	f    *os.File
	tmp  string
	hash hash.Hash
	size int64
	err  error // the first write error: a dump tool that dies of a closed pipe hides it
}

// newArchiveWriter creates the temporary file (mode 0600) beside dest and reserves the
// payload header block.
func newArchiveWriter(dest string) (*archiveWriter, error) {
	f, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".*.tmp")
	if err != nil {
		return nil, err
	}
	w := &archiveWriter{f: f, tmp: f.Name(), hash: sha256.New()}
	if _, err := f.Write(make([]byte, blockSize)); err != nil {
		w.discard()
		return nil, err
	}
	return w, nil
}

// Write appends payload bytes.
func (w *archiveWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.f.Write(p)
	w.hash.Write(p[:n])
	w.size += int64(n)
	if err != nil {
		w.err = err
	}
	return n, err
}

// finish completes m with the payload's size and checksum, writes the manifest entry, the
// end of the archive and the payload header, and syncs and closes the file.
func (w *archiveWriter) finish(m *Manifest) error {
	if w.err != nil {
		return w.err
	}
	if pad := (blockSize - w.size%blockSize) % blockSize; pad > 0 {
		if _, err := w.f.Write(make([]byte, pad)); err != nil {
			return err
		}
	}
	m.Size = w.size
	m.SHA256 = hex.EncodeToString(w.hash.Sum(nil))
	m.ManifestSHA256 = m.Checksum()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	mtime := m.CreatedAt.Truncate(time.Second)
	tw := tar.NewWriter(w.f)
	if err := tw.WriteHeader(fileHeader(manifestName, int64(len(data)), mtime)); err != nil {
		return err
	}
	if _, err := tw.Write(data); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	hdr, err := headerBlock(m.Payload, w.size, mtime)
	if err != nil {
		return err
	}
	if _, err := w.f.WriteAt(hdr, 0); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return err
	}
	return w.f.Close()
}

// discard closes and removes the temporary file.
func (w *archiveWriter) discard() {
	w.f.Close()
	os.Remove(w.tmp)
}

// fileHeader returns the tar header of a regular file entry. The GNU format stores sizes of
// 8 GiB and more in the header block itself, so a header is always one block.
func fileHeader(name string, size int64, mtime time.Time) *tar.Header {
	return &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Mode:     0o600,
		Size:     size,
		ModTime:  mtime,
		Format:   tar.FormatGNU,
	}
}

// headerBlock returns the single header block of a file entry.
func headerBlock(name string, size int64, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	if err := tar.NewWriter(&buf).WriteHeader(fileHeader(name, size, mtime)); err != nil {
		return nil, err
	}
	if buf.Len() != blockSize {
		return nil, fmt.Errorf("tar header of %s is %d bytes, not one block", name, buf.Len())
	}
	return buf.Bytes(), nil
}

// checkFree fails with an error wrapping [fs.ErrExist] when dest exists: a backup never
// replaces a file.
func checkFree(dest string) error {
	_, err := os.Lstat(dest)
	switch {
	case err == nil:
		return &fs.PathError{Op: "write backup", Path: dest, Err: fs.ErrExist}
	case errors.Is(err, fs.ErrNotExist):
		return nil
	default:
		return err
	}
}

// publish gives the finished temporary file the name dest and syncs the directory, so that
// the backup is either complete under its name or absent. It never replaces a file, even
// one created meanwhile by a concurrent backup: the name is taken with link(2), which fails
// if it exists (the error then wraps [fs.ErrExist]), and the temporary name is removed.
func publish(tmp, dest string) error {
	err := os.Link(tmp, dest)
	switch {
	case err == nil:
		if err := os.Remove(tmp); err != nil {
			return err
		}
	case errors.Is(err, fs.ErrExist):
		return &fs.PathError{Op: "write backup", Path: dest, Err: fs.ErrExist}
	case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.ENOTSUP), errors.Is(err, syscall.EOPNOTSUPP),
		errors.Is(err, syscall.ENOSYS), errors.Is(err, syscall.EMLINK):
		// A file system without hard links: check, then rename, the best it allows.
		if err := checkFree(dest); err != nil {
			return err
		}
		if err := os.Rename(tmp, dest); err != nil {
			return err
		}
	default:
		return err
	}
	return syncDir(filepath.Dir(dest))
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	// Some file systems cannot sync a directory; the rename is then as durable as they allow.
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}
