package disk_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/cgroup"
	"github.com/bulwarkhq/bulwark/internal/fault/disk"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/testutil"
	"github.com/bulwarkhq/bulwark/internal/vmtest"
)

// TestThrottleV2InVM runs the TestThrottleV2* tests inside a VM whose only
// cgroup hierarchy is cgroup2: disk.throttle through io.max, on a loop
// device each test attaches, which this hybrid host (io bound to v1 blkio)
// cannot show.
func TestThrottleV2InVM(t *testing.T) {
	testutil.Slow(t) // vmtest.Run skips inside the VM
	// The network modules for the residue checker, which lists nftables,
	// links and qdiscs.
	vmtest.Run(t, vmtest.Options{Run: "^TestThrottleV2[A-Z]", Modules: append(vmtest.LoopModules, vmtest.NetworkModules...), Timeout: 2 * time.Minute})
}

// requireV2VM skips t outside the VM (there is no unified hierarchy to use
// on this host, and no block device a test may throttle), and inside it
// delegates io (and memory) from the root cgroup as systemd does.
func requireV2VM(t *testing.T) {
	t.Helper()
	if !vmtest.InVM() {
		t.Skip("runs inside the VM, on a unified cgroup hierarchy with a loop device (TestThrottleV2InVM)")
	}
	vmtest.DelegateControllers(t, "io", "memory")
}

// ioMaxOf reads the io.max line of dev in the cgroup pid is in (none in
// the root, which has no io.max).
func ioMaxOf(t *testing.T, h *fault.Host, pid int, major, minor uint32) (cgroup.Path, cgroup.IOLimit) {
	t.Helper()
	hy, err := cgroup.Detect(h)
	if err != nil {
		t.Fatal(err)
	}
	in, err := hy.ProcessCgroup(pid, "io")
	if err != nil {
		t.Fatal(err)
	}
	if hy.IsRoot(in) { // no io.max there
		return in, cgroup.IOLimit{Major: major, Minor: minor}
	}
	l, err := hy.ReadIOLimit(in, cgroup.V2, major, minor)
	if err != nil {
		t.Fatal(err)
	}
	return in, l
}

// TestThrottleV2Contract runs the contract suite for disk.throttle on
// cgroup v2, on a loop device: a target in a cgroup the test creates under
// the root (the caps go into that cgroup's io.max, where the test has set
// a read cap of its own first: the fault keeps it and recover puts the line
// back as it was), and a target in the root cgroup (the caps go into a
// child of the root). The residue checker sees the cgroup's members, child
// cgroups and io.max.
func TestThrottleV2Contract(t *testing.T) {
	requireV2VM(t)
	var (
		cg           cgroup.Path
		pid          int
		major, minor uint32
		own          cgroup.IOLimit // the cap the test sets before the fault
	)
	params := func() map[string]string {
		return map[string]string{"pid": strconv.Itoa(pid), "device": fmt.Sprintf("%d:%d", major, minor),
			"write-bps": "1MiB/s", "read-iops": "100", "write-iops": "50"}
	}
	snap := func(o *testutil.SnapshotOptions) {
		o.CgroupFiles = []string{string(cg), cg.File("cgroup.procs"), cg.File("io.max")}
	}
	effect := func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
		want := cgroup.IOLimit{Major: major, Minor: minor, RBps: own.RBps, WBps: 1 << 20, RIOPS: 100, WIOPS: 50}
		in, got := ioMaxOf(t, h, pid, major, minor)
		if !cgroup.Within(in, cg) {
			t.Errorf("target is in %s, outside its cgroup %s", in, cg)
		}
		if got != want {
			t.Errorf("io.max of the target's cgroup %s: %+v, want %+v", in, got, want)
		}
	}
	gone := func(t *testing.T, h *fault.Host) {
		if in, got := ioMaxOf(t, h, pid, major, minor); in != cg || got != own {
			t.Errorf("after recover the target is in %s with %+v, want %s with %+v", in, got, cg, own)
		}
	}
	faulttest.Run(t, disk.ThrottleID,
		faulttest.Case{
			Name:  "own-cgroup-io.max",
			Needs: []string{testutil.CapCgroupV2},
			Setup: func(t *testing.T, h *fault.Host) map[string]string {
				_, major, minor = vmtest.Loop(t, 64<<20)
				target := startSleep(t)
				pid = target.Process.Pid
				cg = testCgroup(t, h, pid)
				own = cgroup.IOLimit{Major: major, Minor: minor, RBps: 8 << 20}
				if err := os.WriteFile(cg.File("io.max"), fmt.Appendf(nil, "%d:%d rbps=%d", major, minor, own.RBps), 0); err != nil {
					t.Fatal(err)
				}
				return params()
			},
			Snapshot: snap,
			Effect:   effect,
			Gone:     gone,
		},
		faulttest.Case{
			Name:  "root-cgroup-child",
			Needs: []string{testutil.CapCgroupV2},
			Setup: func(t *testing.T, h *fault.Host) map[string]string {
				_, major, minor = vmtest.Loop(t, 64<<20)
				target := startSleep(t)
				pid = target.Process.Pid
				cg, own = vmtest.CgroupRoot, cgroup.IOLimit{Major: major, Minor: minor}
				if in, _ := ioMaxOf(t, h, pid, major, minor); in != cg {
					t.Fatalf("target is in %s, not the root cgroup", in)
				}
				return params()
			},
			Snapshot: func(o *testutil.SnapshotOptions) { o.CgroupFiles = []string{string(cg)} },
			Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
				effect(t, h, f)
				if in, _ := ioMaxOf(t, h, pid, major, minor); filepath.Dir(string(in)) != string(cg) {
					t.Errorf("target is in %s, not a child of the root", in)
				}
			},
			Gone: gone,
		},
	)
}

// TestThrottleV2Conflict changes the io.max line the fault wrote while it
// is active: recover leaves it alone and says so, and succeeds once the
// original is written back.
func TestThrottleV2Conflict(t *testing.T) {
	requireV2VM(t)
	_, major, minor := vmtest.Loop(t, 64<<20)
	h := fault.DefaultHost(t.TempDir())
	target := startSleep(t)
	cg := testCgroup(t, h, target.Process.Pid)
	m := open(t, h)
	f := inject(t, m, disk.ThrottleID, map[string]string{"pid": strconv.Itoa(target.Process.Pid), "device": fmt.Sprintf("%d:%d", major, minor), "write-bps": "1MiB/s"})
	someone := fmt.Sprintf("%d:%d wbps=3000000", major, minor)
	if err := os.WriteFile(cg.File("io.max"), []byte(someone), 0); err != nil {
		t.Fatal(err)
	}
	out, err := m.Recover(context.Background(), f.ID)
	if err == nil && len(out) == 1 && out[0].State == bulwark.StateRecovered {
		t.Fatalf("recover over someone else's io.max: %+v", out)
	}
	t.Logf("recover: %v %+v", err, out)
	if b, _ := os.ReadFile(cg.File("io.max")); !strings.Contains(string(b), "wbps=3000000 ") {
		t.Fatalf("io.max after the refused recover: %q", b)
	}
	if err := os.WriteFile(cg.File("io.max"), fmt.Appendf(nil, "%d:%d wbps=max", major, minor), 0); err != nil {
		t.Fatal(err)
	}
	recoverFault(t, m, f.ID)
	if b, _ := os.ReadFile(cg.File("io.max")); len(b) != 0 {
		t.Fatalf("io.max after recover: %q", b)
	}
}

// directIOHelper is a test-only helper: it opens argv[1] with O_DIRECT,
// waits for a line on stdin, then reads or writes (argv[0]) argv[2] blocks
// of argv[3] bytes and prints how long that took in nanoseconds.
const directIOHelper = "disk-test-direct-io"

func init() { fault.RegisterHelper(directIOHelper, runDirectIO) }

func runDirectIO(_ context.Context, args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("usage: read|write PATH BLOCKS BLOCKSIZE")
	}
	n, err1 := strconv.Atoi(args[2])
	bs, err2 := strconv.Atoi(args[3])
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	flag := os.O_RDONLY
	if args[0] == "write" {
		flag = os.O_WRONLY
	}
	f, err := os.OpenFile(args[1], flag|unix.O_DIRECT, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	// O_DIRECT needs an aligned buffer: an anonymous mapping is page-aligned.
	buf, err := unix.Mmap(-1, 0, bs, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return err
	}
	for i := range buf {
		buf[i] = byte(i)
	}
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return err
	}
	start := time.Now()
	for i := range n {
		off := int64(i) * int64(bs)
		if args[0] == "write" {
			_, err = f.WriteAt(buf, off)
		} else {
			_, err = f.ReadAt(buf, off)
		}
		if err != nil {
			return err
		}
	}
	fmt.Println(time.Since(start).Nanoseconds())
	return nil
}

// directIO is a running direct-I/O helper started by the test.
type directIO struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startDirectIO(t *testing.T, mode, dev string, blocks, bs int) *directIO {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "helper", directIOHelper, mode, dev, strconv.Itoa(blocks), strconv.Itoa(bs))
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return &directIO{cmd: cmd, in: in, out: bufio.NewReader(out)}
}

// run lets the helper go and returns how long its I/O took.
func (d *directIO) run(t *testing.T) time.Duration {
	t.Helper()
	if _, err := io.WriteString(d.in, "go\n"); err != nil {
		t.Fatal(err)
	}
	line, err := d.out.ReadString('\n')
	if err != nil {
		t.Fatalf("direct-I/O helper: %v (exit: %v)", err, d.cmd.Wait())
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(ns)
}

// TestThrottleV2Caps throttles a helper the test starts in a cgroup of its
// own, which then reads or writes a loop device with O_DIRECT, and checks
// the rate held is the cap ± 10 % (TCG-emulated, so only a cap well below
// the VM's unthrottled rate is measured); recover restores the cgroup's
// io.max exactly.
func TestThrottleV2Caps(t *testing.T) {
	requireV2VM(t)
	dev, major, minor := vmtest.Loop(t, 64<<20)
	h := fault.DefaultHost(t.TempDir())
	for _, c := range []struct {
		name, mode, param, value string
		blocks, bs               int
		want                     float64 // bytes or ops per second
	}{
		{"write 4MiB/s", "write", "write-bps", "4MiB/s", 128, 64 << 10, 4 << 20},
		{"read 4MiB/s", "read", "read-bps", "4MiB/s", 128, 64 << 10, 4 << 20},
		{"write 100 iops", "write", "write-iops", "100", 200, 4 << 10, 100},
	} {
		t.Run(c.name, func(t *testing.T) {
			free := startDirectIO(t, c.mode, dev, c.blocks, c.bs)
			testCgroup(t, h, free.cmd.Process.Pid)
			unthrottled := free.run(t)

			w := startDirectIO(t, c.mode, dev, c.blocks, c.bs)
			cg := testCgroup(t, h, w.cmd.Process.Pid)
			before, err := os.ReadFile(cg.File("io.max"))
			if err != nil {
				t.Fatal(err)
			}
			m := open(t, h)
			f := inject(t, m, disk.ThrottleID, map[string]string{"pid": strconv.Itoa(w.cmd.Process.Pid), "device": fmt.Sprintf("%d:%d", major, minor), c.param: c.value})
			took := w.run(t)
			recoverFault(t, m, f.ID)
			after, err := os.ReadFile(cg.File("io.max"))
			if err != nil {
				t.Fatal(err)
			}
			if string(after) != string(before) {
				t.Errorf("io.max of %s after recover %q, before the fault %q", cg, after, before)
			}
			amount := float64(c.blocks) * float64(c.bs)
			if strings.Contains(c.param, "iops") {
				amount = float64(c.blocks)
			}
			rate := amount / took.Seconds()
			t.Logf("%s: throttled %v (unthrottled %v), %.4g per second, cap %.4g: held/requested %.3f",
				c.name, took.Round(time.Millisecond), unthrottled.Round(time.Millisecond), rate, c.want, rate/c.want)
			if off := math.Abs(rate-c.want) / c.want; off > 0.10 {
				if atCap := time.Duration(amount / c.want * float64(time.Second)); unthrottled > atCap/2 {
					t.Skipf("unthrottled, the same I/O took %v, more than half the %v it takes at the cap: the emulated VM, not the cap, sets the pace", unthrottled.Round(time.Millisecond), atCap)
				}
				t.Errorf("ran at %.4g per second, want the cap %.4g ± 10 %%", rate, c.want)
			}
		})
	}
}
