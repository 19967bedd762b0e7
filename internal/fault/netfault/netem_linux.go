//go:build linux

package netfault

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// netemProbeTTL is how long a netem probe's answer is reused: a module may
// be installed or blacklisted meanwhile, but not every few milliseconds.
const netemProbeTTL = time.Minute

var netemCache struct {
	sync.Mutex
	at   time.Time
	ok   bool
	text string
}

// netemStatus says whether this kernel can create a netem qdisc, and how
// that was found out. It tries for real: on the loopback link of a scratch
// network namespace that lives only as long as the probe's thread (the
// kernel loads sch_netem on demand, as for tc). Where a namespace cannot be
// made, it looks for the module instead and says so.
func netemStatus() (ok bool, text string) {
	netemCache.Lock()
	defer netemCache.Unlock()
	if !netemCache.at.IsZero() && time.Since(netemCache.at) < netemProbeTTL {
		return netemCache.ok, netemCache.text
	}
	ok, text = probeNetem()
	netemCache.at, netemCache.ok, netemCache.text = time.Now(), ok, text
	return ok, text
}

func probeNetem() (bool, string) {
	errc := make(chan error, 1)
	go func() {
		// The thread goes back to its namespace and is unlocked only when
		// that works; otherwise it stays locked and exits with the
		// goroutine. A thread left in the scratch namespace must never run
		// other goroutines, and must never be the main thread for long:
		// /proc/self/ns/net follows the main thread, and the Go runtime
		// wedges a locked main thread instead of ending it.
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- &scratchError{fmt.Errorf("open own netns: %w", err)}
			return
		}
		defer unix.Close(orig)
		errc <- addNetemInScratchNS()
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
	}()
	err := <-errc
	var scratch *scratchError
	switch {
	case err == nil:
		return true, "a netem qdisc was created on lo in a scratch network namespace"
	case errors.As(err, &scratch):
		ok, how := netemModule()
		return ok, fmt.Sprintf("%s (no scratch network namespace: %v)", how, scratch.err)
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.EOPNOTSUPP):
		return false, fmt.Sprintf("creating a netem qdisc on lo in a scratch network namespace failed: %v (the kernel knows no qdisc kind netem)", err)
	}
	return false, fmt.Sprintf("creating a netem qdisc on lo in a scratch network namespace failed: %v", err)
}

// scratchError is a failure to make the scratch namespace, not to add netem.
type scratchError struct{ err error }

func (e *scratchError) Error() string { return e.err.Error() }

func addNetemInScratchNS() error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return &scratchError{fmt.Errorf("unshare netns: %w", err)}
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return &scratchError{fmt.Errorf("open netlink in scratch netns: %w", err)}
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return &scratchError{fmt.Errorf("find lo in scratch netns: %w", err)}
	}
	q := netlink.NewNetem(netlink.QdiscAttrs{LinkIndex: lo.Attrs().Index, Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT},
		netlink.NetemQdiscAttrs{Latency: 1000})
	if err := h.QdiscAdd(q); err != nil {
		return fmt.Errorf("add netem qdisc: %w", err)
	}
	return nil
}

// netemModule looks for sch_netem loaded, built in, or installed for the
// running kernel.
func netemModule() (bool, string) {
	if _, err := os.Stat("/sys/module/sch_netem"); err == nil {
		return true, "module sch_netem is loaded"
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false, fmt.Sprintf("netem unknown: uname: %v", err)
	}
	dir := "/lib/modules/" + unix.ByteSliceToString(u.Release[:])
	for _, f := range []string{"modules.builtin", "modules.dep"} {
		b, err := os.ReadFile(dir + "/" + f)
		if err == nil && strings.Contains(string(b), "/sch_netem.ko") {
			return true, fmt.Sprintf("sch_netem.ko is listed in %s/%s", dir, f)
		}
	}
	return false, fmt.Sprintf("module sch_netem is neither loaded nor listed in %s", dir)
}

// NetemAvailable says whether this kernel can create a netem qdisc and how
// that was found out (the probe net.loss records at inject; cached for a
// minute).
func NetemAvailable() (bool, string) { return netemStatus() }
