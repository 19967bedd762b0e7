package file

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// store is where one fault keeps the original bytes and the marker of an
// in-place write in progress: StateDir/data/<fault id>/.
type store struct{ dir string }

func storeFor(h *fault.Host, id string) store {
	return store{dir: filepath.Join(h.StateDir, "data", id)}
}

func (s store) backup() string { return filepath.Join(s.dir, "original") }
func (s store) marker() string { return filepath.Join(s.dir, "writing") }

// saveBackup copies f (size bytes, read from its start) to the backup, 0600,
// and makes it durable: the copy is fsynced before it is renamed into place
// and the directories are fsynced after. The copy must hash to want.
func (s store) saveBackup(f *os.File, size int64, want string) error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("create backup directory: %w", err)
	}
	tmp := s.backup() + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create backup: %w", err)
	}
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(out, h), io.NewSectionReader(f, 0, size+1), make([]byte, chunk))
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && (n != size || hex.EncodeToString(h.Sum(nil)) != want) {
		err = errors.New("the file changed after prepare (its bytes no longer hash to the prepared original); nothing was changed")
	}
	if err == nil {
		err = os.Rename(tmp, s.backup())
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("back up original: %w", err)
	}
	return s.syncDirs()
}

// syncDirs makes the backup directory's entries durable, up to data/.
func (s store) syncDirs() error {
	for _, d := range []string{s.dir, filepath.Dir(s.dir), filepath.Dir(filepath.Dir(s.dir))} {
		if err := syncDir(d); err != nil {
			return fmt.Errorf("sync %s: %w", d, err)
		}
	}
	return nil
}

// mark records, durably, that an in-place write of the target is starting.
func (s store) mark() error {
	f, err := os.OpenFile(s.marker(), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create write marker: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(s.dir)
	}
	if err != nil {
		return fmt.Errorf("create write marker: %w", err)
	}
	return nil
}

// unmark records that the in-place write has finished and is durable.
func (s store) unmark() error {
	if err := os.Remove(s.marker()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove write marker: %w", err)
	}
	return syncDir(s.dir)
}

// remove deletes the backup, the marker and the directory; what is already
// gone is not an error.
func (s store) remove() error {
	for _, p := range []string{s.backup(), s.backup() + ".tmp", s.marker(), s.dir} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove backup: %w", err)
		}
	}
	if err := syncDir(filepath.Dir(s.dir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove backup: %w", err)
	}
	return nil
}

func exists(p string) (bool, error) {
	_, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
