package file

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// openTarget opens a regular file without following a symlink in its last
// element and without blocking on a FIFO put in its place.
func openTarget(path string, flag int) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s: %w (%s)", path, errNotRegular, fi.Mode().Type())
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// fileID returns "device:inode", which names the file across renames.
func fileID(fi os.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("%d:%d", st.Dev, st.Ino)
	}
	return ""
}

// linkCount returns the number of hard links to the file.
func linkCount(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}

// setModTime sets the open file's modification time, leaving its access
// time alone.
func setModTime(f *os.File, mtime time.Time) error {
	ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, unix.NsecToTimespec(mtime.UnixNano())}
	err := unix.UtimesNanoAt(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), ts, 0)
	if err != nil { // no /proc: fall back to the path, checked just before
		err = os.Chtimes(f.Name(), time.Time{}, mtime)
	}
	return err
}

// syncDir fsyncs a directory so that its entries are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// renameNoReplace renames old to new unless new exists (then it fails with
// fs.ErrExist): the compare-and-swap of a move. Where the filesystem lacks
// RENAME_NOREPLACE it links and unlinks, which is as exclusive.
func renameNoReplace(oldPath, newPath string) error {
	err := unix.Renameat2(unix.AT_FDCWD, oldPath, unix.AT_FDCWD, newPath, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		if err = os.Link(oldPath, newPath); err == nil {
			return os.Remove(oldPath)
		}
		return err
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldPath, New: newPath, Err: err}
	}
	return nil
}

// crossDevice reports a rename that failed because the two names are on
// different filesystems (or mounts).
func crossDevice(err error) bool { return errors.Is(err, unix.EXDEV) }

// permBits returns the file's permission bits with setuid, setgid and
// sticky, as chmod(2) takes them.
func permBits(fi os.FileInfo) uint32 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Mode & 0o7777
	}
	return uint32(fi.Mode().Perm())
}

// ownerOf returns the file's owner and group.
func ownerOf(fi os.FileInfo) (uid, gid int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return -1, -1
}

// fchmod sets the open file's mode bits (with setuid, setgid and sticky).
func fchmod(f *os.File, mode uint32) error {
	return unix.Fchmod(int(f.Fd()), mode)
}
