//go:build !linux

package file

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// openTarget opens a regular file, refusing a symlink or reparse point in
// its last element.
func openTarget(path string, flag int) (*os.File, os.FileInfo, error) {
	li, err := os.Lstat(path)
	if err != nil {
		return nil, nil, err
	}
	if !li.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s: %w (%s)", path, errNotRegular, li.Mode().Type())
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !os.SameFile(li, fi) {
		err = errors.New(path + " was replaced while it was opened")
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// fileID is not recorded on this platform; recovery relies on the hashes.
func fileID(os.FileInfo) string { return "" }

// linkCount is not checked on this platform.
func linkCount(os.FileInfo) uint64 { return 1 }

// setModTime sets the file's modification time, leaving its access time.
func setModTime(f *os.File, mtime time.Time) error {
	return os.Chtimes(f.Name(), time.Time{}, mtime)
}

// syncDir is a no-op: Windows cannot fsync a directory, and NTFS journals
// its metadata.
func syncDir(string) error { return nil }

// renameNoReplace renames old to new unless new exists, by linking and
// unlinking (a link never replaces a name).
func renameNoReplace(oldPath, newPath string) error {
	if err := os.Link(oldPath, newPath); err != nil {
		return err
	}
	return os.Remove(oldPath)
}

// crossDevice reports a rename across filesystems; link reports it with
// an error this platform does not tell apart, so it is never assumed.
func crossDevice(error) bool { return false }

// permBits returns the permission bits Go reports on this platform.
func permBits(fi os.FileInfo) uint32 { return uint32(fi.Mode().Perm()) }

// ownerOf is not known on this platform.
func ownerOf(os.FileInfo) (uid, gid int) { return -1, -1 }

// fchmod sets the permission bits Go can set on this platform.
func fchmod(f *os.File, mode uint32) error { return f.Chmod(os.FileMode(mode & 0o777)) }
