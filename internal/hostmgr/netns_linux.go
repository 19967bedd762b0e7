package hostmgr

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

var errNetNSGone = errors.New("network namespace is gone")

// currentNetNS records the namespace network kinds act in: the host's
// configured one (with its path, so any later process can get back in), or
// this process's own (inode only). "Own" is read through /proc/thread-self:
// /proc/self follows the main thread, which a namespace switch elsewhere in
// the process could have left behind; the calling goroutine's thread is in
// the process's namespace (threads that switch are locked and discarded).
func currentNetNS(h *fault.Host) *fault.NetNSRef {
	path := h.NetNSPath
	if path == "" {
		path = "/proc/thread-self/ns/net"
	}
	ino, err := nsInode(path)
	if err != nil {
		return nil
	}
	return &fault.NetNSRef{Inode: ino, Path: h.NetNSPath}
}

func nsInode(path string) (uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// inNetNS checks that the namespace the receipt was applied in is reachable
// before fn recovers in it. Kinds never switch threads: they open
// namespace-bound handles from the receipt's path (fault.Receipt.NetNS). A
// recorded path that no longer leads to the same namespace means the
// namespace, and every rule in it, is gone. A namespace recorded without a
// path must be this process's own; otherwise the recovery cannot reach it and
// fails (the fault stays stuck rather than being recorded as recovered).
func inNetNS(r *fault.Receipt, fn func() error) error {
	if r == nil || r.NetNS == nil {
		return fn()
	}
	if r.NetNS.Path != "" {
		if ino, err := nsInode(r.NetNS.Path); err != nil || ino != r.NetNS.Inode {
			return fmt.Errorf("enter network namespace %s: %w", r.NetNS.Path, errNetNSGone)
		}
		return fn()
	}
	if self, err := nsInode("/proc/thread-self/ns/net"); err != nil || self != r.NetNS.Inode {
		return fmt.Errorf("network namespace %d was this process's own at inject and is not this one; run the sweep from it", r.NetNS.Inode)
	}
	return fn()
}
