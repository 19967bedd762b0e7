package disk

import (
	"fmt"
	"os"
	"syscall"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"golang.org/x/sys/unix"
)

// stateMarginMin and stateMarginPercent are the free space always kept on
// the state directory's filesystem: at least max(1 GiB, 5 %).
const (
	stateMarginMin     = bulwark.ByteSize(1 << 30)
	stateMarginPercent = 5.0
)

// fsSpace is a filesystem's size and the space available to it, in bytes.
type fsSpace struct {
	Dev   uint64
	Total int64
	Avail int64
	Block int64
}

// spaceOf reads statfs(2) and the device of dir.
func spaceOf(dir string) (fsSpace, error) {
	var s unix.Statfs_t
	if err := unix.Statfs(dir, &s); err != nil {
		return fsSpace{}, fmt.Errorf("statfs %s: %w", dir, err)
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return fsSpace{}, fmt.Errorf("stat %s: %w", dir, err)
	}
	bs := int64(s.Bsize)
	if s.Frsize > 0 {
		bs = int64(s.Frsize)
	}
	return fsSpace{Dev: st.Dev, Total: int64(s.Blocks) * bs, Avail: int64(s.Bavail) * bs, Block: bs}, nil
}

// checkSpace refuses to take size bytes from the filesystem of dir when that
// would leave less than reserve percent of it free, or, on the state
// directory's filesystem, less than max(1 GiB, 5 %). param names the
// parameter the size came from.
func checkSpace(h *fault.Host, dir string, sp fsSpace, size int64, reserve float64, param string) error {
	left := sp.Avail - size
	if min := int64(float64(sp.Total) * reserve / 100); left < min {
		return &fault.ParamError{Param: param, Message: fmt.Sprintf("%s would leave %s free on the filesystem of %s, less than the reserve of %g %% (%s; --reserve)",
			bulwark.ByteSize(size), bulwark.ByteSize(max(left, 0)), dir, reserve, bulwark.ByteSize(min))}
	}
	if h.StateDir == "" {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Stat(h.StateDir, &st); err != nil {
		return fmt.Errorf("stat state directory %s: %w", h.StateDir, err)
	}
	if st.Dev != sp.Dev {
		return nil
	}
	margin := max(int64(stateMarginMin), int64(float64(sp.Total)*stateMarginPercent/100))
	if left < margin {
		return &fault.ParamError{Param: param, Message: fmt.Sprintf("%s would leave %s free on the filesystem of bulwark's state directory %s, less than its margin of %s (max of 1GiB and 5 %%); choose a smaller --size or another --path",
			bulwark.ByteSize(size), bulwark.ByteSize(max(left, 0)), h.StateDir, bulwark.ByteSize(margin))}
	}
	return nil
}

// confineDir resolves p inside the host's file roots and checks it is a
// directory.
func confineDir(h *fault.Host, param, p string) (string, error) {
	dir, err := h.ConfinePath(param, p)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return "", &fault.ParamError{Param: param, Message: err.Error()}
	}
	if !fi.IsDir() {
		return "", &fault.ParamError{Param: param, Message: dir + " is not a directory"}
	}
	return dir, nil
}

// fileIdentity returns the device and inode of a path, without following a
// symlink in its last element.
func fileIdentity(path string) (dev, ino uint64, blocks int64, size int64, err error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return 0, 0, 0, 0, err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return st.Dev, st.Ino, 0, 0, fmt.Errorf("%s is not a regular file", path)
	}
	return st.Dev, st.Ino, st.Blocks, st.Size, nil
}
