package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// needRoots is the availability check every file kind shares: file faults
// need file roots.
func needRoots(h *fault.Host) error {
	if len(h.FileRoots) == 0 {
		return errors.New("no file roots are configured (--file-roots, BULWARK_FILE_ROOTS)")
	}
	return nil
}

// rootsOnly implements fault.Availability for the kinds that need nothing
// but file roots.
type rootsOnly struct{}

// Available implements fault.Availability.
func (rootsOnly) Available(ctx context.Context, h *fault.Host) error { return needRoots(h) }

// decodeData checks a receipt's version (every file kind is at version 1)
// and decodes its data into v.
func decodeData(r *fault.Receipt, v any) error {
	switch {
	case r.Version > 1:
		return fmt.Errorf("decode %s receipt v%d: %w", r.Kind, r.Version, bulwark.ErrNewerReceipt)
	case r.Version < 1:
		return fmt.Errorf("decode %s receipt: no version %d", r.Kind, r.Version)
	}
	return r.Decode(v)
}

// checkFaultID refuses a fault id that could name anything but one
// directory under StateDir/data.
func checkFaultID(kind, id string) error {
	if id == "" || filepath.Base(id) != id || id == ".." || id == "." {
		return fmt.Errorf("decode %s receipt: bad fault id %q", kind, id)
	}
	return nil
}

// openParam confines p, opens it as a regular file for reading and returns
// its resolved path; every problem is a *fault.ParamError naming --path.
func openParam(h *fault.Host, p string) (string, *os.File, os.FileInfo, error) {
	path, err := confine(h, p)
	if err != nil {
		return "", nil, nil, err
	}
	f, fi, err := openTarget(path, os.O_RDONLY)
	if err != nil {
		return "", nil, nil, &fault.ParamError{Param: "path", Message: err.Error()}
	}
	return path, f, fi, nil
}

// refuseLinks refuses a file with more than one hard link: a name outside
// the file roots may share the bytes (or the mode) being changed.
func refuseLinks(p string, fi os.FileInfo) error {
	if n := linkCount(fi); n > 1 {
		return &fault.ParamError{Param: "path", Message: fmt.Sprintf("%s has %d hard links: a name outside the file roots may share its bytes", p, n)}
	}
	return nil
}

// hostNow is the host's clock.
func hostNow(h *fault.Host) time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

// claim marks, durably, that a fault without a backup holds a change to
// its file: StateDir/data/<id>/claim, 0600. Deleting it by hand tells the
// next recovery to keep what a person put in the file.
func (s store) claim() string { return filepath.Join(s.dir, "claim") }

// makeClaim creates the claim file and makes it durable.
func (s store) makeClaim() error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	f, err := os.OpenFile(s.claim(), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create claim: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.syncDirs()
	}
	if err != nil {
		return fmt.Errorf("create claim: %w", err)
	}
	return nil
}

// removeAll deletes everything the store may hold; what is gone is not an
// error.
func (s store) removeAll() error {
	if err := os.Remove(s.claim()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove claim: %w", err)
	}
	return s.remove()
}

// leftovers returns an error naming the first of the store's files that is
// still there.
func (s store) leftovers() error {
	for _, p := range []string{s.backup(), s.marker(), s.claim(), s.dir} {
		if ok, err := exists(p); ok || err != nil {
			return fmt.Errorf("%s is still there (%v)", p, err)
		}
	}
	return nil
}
