package vmtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// LoopModules are the modules Loop needs; pass them in Options.Modules.
var LoopModules = []string{"loop"}

// Loop attaches a new loop device to a sparse file of size bytes in
// tb.TempDir() (tmpfs in the VM) and returns the device's path and
// MAJ:MIN; cleanup detaches it. It works through ioctls on
// /dev/loop-control and the device (LOOP_CTL_GET_FREE, LOOP_CONFIGURE or
// LOOP_SET_FD), with no shell or losetup, and only inside the VM: outside
// it tb fails, so a test never attaches a block device to a real host.
func Loop(tb testing.TB, size int64) (dev string, major, minor uint32) {
	tb.Helper()
	if !InVM() {
		tb.Fatal("vmtest.Loop: refusing to attach a loop device outside the VM")
	}
	backing := filepath.Join(tb.TempDir(), "loop.img")
	bf, err := os.OpenFile(backing, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	defer bf.Close()
	if err := bf.Truncate(size); err != nil {
		tb.Fatal(err)
	}
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		tb.Fatalf("vmtest.Loop: %v (is %q in Options.Modules?)", err, strings.Join(LoopModules, " "))
	}
	defer ctl.Close()
	n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
	if err != nil {
		tb.Fatalf("vmtest.Loop: LOOP_CTL_GET_FREE: %v", err)
	}
	dev = fmt.Sprintf("/dev/loop%d", n)
	lf, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := unix.LoopConfig{Fd: uint32(bf.Fd())}
	copy(cfg.Info.File_name[:], backing)
	if err := unix.IoctlLoopConfigure(int(lf.Fd()), &cfg); err != nil {
		// Kernels before 5.8 have no LOOP_CONFIGURE.
		if err2 := unix.IoctlSetInt(int(lf.Fd()), unix.LOOP_SET_FD, int(bf.Fd())); err2 != nil {
			lf.Close()
			tb.Fatalf("vmtest.Loop: attach %s to %s: LOOP_CONFIGURE: %v; LOOP_SET_FD: %v", backing, dev, err, err2)
		}
	}
	tb.Cleanup(func() {
		if err := unix.IoctlSetInt(int(lf.Fd()), unix.LOOP_CLR_FD, 0); err != nil {
			tb.Errorf("vmtest.Loop: detach %s: %v", dev, err)
		}
		lf.Close()
	})
	var st unix.Stat_t
	if err := unix.Fstat(int(lf.Fd()), &st); err != nil {
		tb.Fatal(err)
	}
	return dev, unix.Major(st.Rdev), unix.Minor(st.Rdev)
}

// CgroupRoot is where the VM's /init mounts cgroup2.
const CgroupRoot = "/sys/fs/cgroup"

// DelegateControllers enables the named cgroup v2 controllers ("io",
// "memory", "pids") in the VM's root cgroup.subtree_control, so that child
// cgroups have their files, as on a systemd host. Only inside the VM: the
// VM's hierarchy is thrown away with it; outside, tb fails.
func DelegateControllers(tb testing.TB, names ...string) {
	tb.Helper()
	if !InVM() {
		tb.Fatal("vmtest.DelegateControllers: refusing to change the cgroup root outside the VM")
	}
	for _, n := range names {
		f := filepath.Join(CgroupRoot, "cgroup.subtree_control")
		if err := os.WriteFile(f, []byte("+"+n), 0); err != nil {
			tb.Fatalf("vmtest.DelegateControllers: write +%s to %s: %v", n, f, err)
		}
	}
}
