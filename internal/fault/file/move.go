package file

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// moveReceiptV1 is the undo record of file.delete and file.hold, receipt
// version 1: where the file was, which file it was (device:inode, size,
// SHA-256) and where it was moved. It holds no contents.
type moveReceiptV1 struct {
	FaultID string    `json:"faultId"`
	Path    string    `json:"path"`
	FileID  string    `json:"fileId,omitempty"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"modTime"`
	Sum     string    `json:"sha256"`
	// Aside is where Apply moved the file; Recover also looks in the other
	// place a move may have used, in case Apply died before recording it.
	Aside string `json:"aside,omitempty"`
	// Until, for file.hold, is when the file goes back even though the
	// fault has not expired.
	Until *time.Time `json:"until,omitempty"`
}

// prepareMove confines and reads the file to move; it changes nothing.
func prepareMove(h *fault.Host, id, p string) (moveReceiptV1, error) {
	path, f, fi, err := openParam(h, p)
	if err != nil {
		return moveReceiptV1{}, err
	}
	defer f.Close()
	sum, err := hashOf(f)
	if err != nil {
		return moveReceiptV1{}, fmt.Errorf("read %s: %w", path, err)
	}
	return moveReceiptV1{FaultID: id, Path: path, FileID: fileID(fi), Size: fi.Size(), ModTime: fi.ModTime(), Sum: sum}, nil
}

// asideNames are the places a move may put the file: the fault's state
// directory when it is on the same filesystem, a hidden name next to the
// file (inside the file roots) otherwise.
func asideNames(h *fault.Host, rec moveReceiptV1) []string {
	return []string{
		storeFor(h, rec.FaultID).backup(),
		filepath.Join(filepath.Dir(rec.Path), ".bulwark-aside-"+rec.FaultID),
	}
}

// moveAside renames the file away (never a copy) and returns where it went.
func moveAside(h *fault.Host, rec moveReceiptV1) (string, error) {
	f, fi, err := openTarget(rec.Path, os.O_RDONLY)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", rec.Path, err)
	}
	sum, err := hashOf(f)
	f.Close()
	switch {
	case err != nil:
		return "", fmt.Errorf("read %s: %w", rec.Path, err)
	case fileID(fi) != rec.FileID || sum != rec.Sum:
		return "", fmt.Errorf("move %s: the file changed after prepare; nothing was changed", rec.Path)
	}
	s := storeFor(h, rec.FaultID)
	if _, err := h.DataDir(rec.FaultID); err != nil {
		return "", fmt.Errorf("create state directory: %w", err)
	}
	names := asideNames(h, rec)
	dst := names[0]
	err = renameNoReplace(rec.Path, dst)
	if crossDevice(err) {
		os.Remove(s.dir)
		dst = names[1]
		err = renameNoReplace(rec.Path, dst)
	}
	if err != nil {
		return "", fmt.Errorf("move %s aside: %w", rec.Path, err)
	}
	// The name may have been swapped between the check and the rename.
	if li, err := os.Lstat(dst); err != nil || !li.Mode().IsRegular() || fileID(li) != rec.FileID {
		if berr := renameNoReplace(dst, rec.Path); berr != nil {
			return "", fmt.Errorf("move %s aside: another file was moved (%v) and could not be put back from %s: %w", rec.Path, err, dst, berr)
		}
		return "", fmt.Errorf("move %s aside: the file was replaced during the move; it was put back", rec.Path)
	}
	return dst, syncDirs(rec.Path, dst)
}

// syncDirs fsyncs the directories holding the given names.
func syncDirs(names ...string) error {
	for _, n := range names {
		if err := syncDir(filepath.Dir(n)); err != nil {
			return fmt.Errorf("sync %s: %w", filepath.Dir(n), err)
		}
	}
	return nil
}

// findAside returns where the moved file is now, or "" when it is in
// neither place.
func findAside(h *fault.Host, rec moveReceiptV1) (string, error) {
	for _, n := range asideNames(h, rec) {
		li, err := os.Lstat(n)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return "", err
		case li.Mode().IsRegular() && (rec.FileID == "" || fileID(li) == rec.FileID):
			return n, nil
		}
	}
	return "", nil
}

// moveBack is the compare-and-swap restore of a moved file: rename it back
// only while nothing is at its path; a new file there is a *ConflictError
// and the moved original is kept. Then the state directory is removed.
func moveBack(h *fault.Host, rec moveReceiptV1) error {
	aside, err := findAside(h, rec)
	if err != nil {
		return fmt.Errorf("recover %s: %w", rec.Path, err)
	}
	if aside != "" {
		err := renameNoReplace(aside, rec.Path)
		if errors.Is(err, fs.ErrExist) {
			return &ConflictError{Path: rec.Path, Current: describePath(rec.Path), Faulted: "no file", Original: "sha256 " + rec.Sum, Backup: aside,
				Resolve: fmt.Sprintf("a new file was created at %s while the original was held aside; the original is kept at %s: remove the new file to restore the original, or delete the kept original to keep the new file, and the next retry ends the fault", rec.Path, aside)}
		}
		if err != nil {
			return fmt.Errorf("recover %s: move back from %s: %w", rec.Path, aside, err)
		}
		if err := syncDirs(rec.Path, aside); err != nil {
			return fmt.Errorf("recover %s: %w", rec.Path, err)
		}
	}
	// Moved back now or earlier, never moved, or its original removed by a
	// person to keep a new file: nothing of the fault is left but the store.
	return storeFor(h, rec.FaultID).removeAll()
}

// describePath says what is at p, for conflicts and drift.
func describePath(p string) string {
	li, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "missing"
	case err != nil:
		return err.Error()
	case !li.Mode().IsRegular():
		return fmt.Sprintf("a %s", li.Mode().Type())
	}
	return fmt.Sprintf("a new file of %d bytes", li.Size())
}

// verifyMoved reads the move back: nothing at the path and the same file
// (device:inode, size) at its aside name.
func verifyMoved(h *fault.Host, rec moveReceiptV1) ([]bulwark.Evidence, error) {
	if _, err := os.Lstat(rec.Path); !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is there again: %s", rec.Path, describePath(rec.Path))
	}
	aside, err := findAside(h, rec)
	if err != nil || aside == "" {
		return nil, fmt.Errorf("the moved file is in none of %v (%v)", asideNames(h, rec), err)
	}
	li, err := os.Lstat(aside)
	if err != nil || li.Size() != rec.Size {
		return nil, fmt.Errorf("the moved file %s is %d bytes, want %d (%v)", aside, sizeOf(li), rec.Size, err)
	}
	return []bulwark.Evidence{
		fault.Evidence("file-absent", true, "%s does not exist", rec.Path),
		fault.Evidence("file-aside", true, "the file (sha256 %s, %d bytes, inode %s) is kept at %s", rec.Sum, rec.Size, rec.FileID, aside),
	}, nil
}

// verifyMovedBack checks the state directory and the aside names are empty
// and says whether the path holds the original file again.
func verifyMovedBack(h *fault.Host, rec moveReceiptV1) ([]bulwark.Evidence, error) {
	if err := storeFor(h, rec.FaultID).leftovers(); err != nil {
		return nil, fmt.Errorf("verify recovered %s: %w", rec.Path, err)
	}
	if aside, err := findAside(h, rec); aside != "" || err != nil {
		return nil, fmt.Errorf("verify recovered %s: the original is still at %s (%v)", rec.Path, aside, err)
	}
	f, fi, err := openTarget(rec.Path, os.O_RDONLY)
	if err == nil {
		defer f.Close()
		if sum, herr := hashOf(io.NewSectionReader(f, 0, fi.Size()+1)); herr == nil && sum == rec.Sum && fileID(fi) == rec.FileID {
			return []bulwark.Evidence{fault.Evidence("file-restored", true, "%s is back (the same inode %s, sha256 %s, %d bytes)", rec.Path, rec.FileID, rec.Sum, rec.Size)}, nil
		}
	}
	return []bulwark.Evidence{fault.Evidence("file-released", true, "%s is %s, not the original: its kept original was removed by hand to keep it, or it changed after the fault ended; nothing of the fault is left", rec.Path, describePath(rec.Path))}, nil
}

// decodeMove decodes every receipt version this binary knows.
func decodeMove(r *fault.Receipt) (moveReceiptV1, error) {
	var rec moveReceiptV1
	if err := decodeData(r, &rec); err != nil {
		return rec, err
	}
	return rec, checkFaultID(r.Kind, rec.FaultID)
}
