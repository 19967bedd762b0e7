//go:build linux

package testutil

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// sandboxCloneFlags are the namespaces a sandboxed child gets. No user namespace:
// the tests need real root for nftables and tc.
const sandboxCloneFlags = unix.CLONE_NEWNET | unix.CLONE_NEWNS | unix.CLONE_NEWPID |
	unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWCGROUP

// SandboxHostname is the hostname inside a sandbox (its own UTS namespace).
const SandboxHostname = "bulwark-sandbox"

// Sandbox runs the calling test inside fresh namespaces. Use it exactly so:
//
//	func TestX(t *testing.T) {
//		testutil.Require(t, "root", "netns")
//		if !testutil.Sandbox(t) {
//			return
//		}
//		... // runs only in the sandbox
//	}
//
// In the normal test process, Sandbox re-executes the test binary running only
// this test (-test.run with every element of t.Name() anchored, -test.v,
// -test.count=1, -test.short when set, and a -test.timeout a little below t's
// deadline) as PID 1 of new network, mount, PID, UTS, IPC and cgroup namespaces.
// It streams the child's output into t.Log, marks t failed if the child failed,
// skips t if the child skipped, and returns false. It requires CapSandbox
// (skipping, or failing under CI=true).
//
// In the child, Sandbox first checks that it is PID 1 in mount and network
// namespaces other than the parent's, makes every mount private (before any other
// mount, so nothing propagates to the host), mounts a fresh /proc and /sys (the
// host's /sys/fs/cgroup is bound back), tmpfs on /tmp and /var/tmp, a tmpfs state
// directory, bind-mounts a private copy of /etc/hosts over /etc/hosts, sets the
// hostname to SandboxHostname, sets lo up, starts a zombie reaper (the test binary
// is the namespace's init) and returns true. SandboxPaths gives the paths.
//
// Calling Sandbox again in the child from the same test or a subtest returns true
// without further set-up. Subtests share the sandbox; give a subtest its own by
// calling Sandbox in it and not in its parent.
func Sandbox(t *testing.T) bool {
	t.Helper()
	if target, ok := os.LookupEnv(envSandbox); ok {
		return enterSandbox(t, target)
	}
	Require(t, CapSandbox)
	runSandboxed(t)
	return false
}

// runSandboxed is the parent half of Sandbox.
func runSandboxed(t *testing.T) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	args := []string{"-test.run=" + runPattern(t.Name()), "-test.v=true", "-test.count=1"}
	if testing.Short() {
		args = append(args, "-test.short=true")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if deadline, ok := t.Deadline(); ok {
		// The child times out (with its goroutine dump) before we kill it, and we
		// kill it before our own deadline so t can still report.
		left := time.Until(deadline)
		args = append(args, "-test.timeout="+max(left-10*time.Second, left*8/10, time.Second).String())
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-min(3*time.Second, left/20)))
		defer cancel()
	}

	statusR, statusW, err := os.Pipe()
	if err != nil {
		t.Fatalf("testutil.Sandbox: %v", err)
	}
	defer statusR.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		statusW.Close()
		t.Fatalf("testutil.Sandbox: %v", err)
	}
	defer outR.Close()

	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = setEnv(os.Environ(),
		envSandbox+"="+t.Name(),
		envSandboxFD+"=3",
		envSandboxHost+"="+nsIDs("/proc/thread-self"),
		"TMPDIR=/tmp") // the child's /tmp is a tmpfs; keep t.TempDir there
	cmd.Stdout, cmd.Stderr = outW, outW
	cmd.ExtraFiles = []*os.File{statusW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: sandboxCloneFlags, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second

	// Stream the output and collect the status while the child runs.
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		r := bufio.NewReader(outR)
		for {
			line, err := r.ReadString('\n')
			if line = strings.TrimRight(line, "\n"); line != "" {
				t.Log("sandbox| " + line)
			}
			if err != nil {
				return
			}
		}
	}()
	statusc := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(statusR)
		statusc <- strings.TrimSpace(string(b))
	}()

	waitErr := startAndWait(cmd, outW, statusW)
	<-logged
	status := <-statusc

	switch {
	case ctx.Err() != nil:
		t.Errorf("testutil.Sandbox: sandboxed %s killed near the test deadline: %v", t.Name(), waitErr)
	case waitErr != nil:
		t.Errorf("testutil.Sandbox: sandboxed %s failed (status %q): %v", t.Name(), status, waitErr)
	case status == "skip":
		t.Skip("skipped inside the sandbox (see log)")
	case status == "pass":
	default:
		t.Errorf("testutil.Sandbox: child exited 0 with status %q: it did not run %s (-test.run %s)",
			status, t.Name(), runPattern(t.Name()))
	}
}

// startAndWait starts cmd and waits for it on one locked OS thread: Pdeathsig
// fires when the thread that forked the child exits, and a thread may exit (be
// discarded after a namespace switch) while the child still runs. The parent's
// copies of the pipe write ends are closed once the child has them.
func startAndWait(cmd *exec.Cmd, closeAfterStart ...io.Closer) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		for _, c := range closeAfterStart {
			c.Close()
		}
		if err == nil {
			err = cmd.Wait()
		}
		errc <- err
	}()
	return <-errc
}

// enterSandbox is the child half of Sandbox.
func enterSandbox(t *testing.T, target string) bool {
	t.Helper()
	if !inTarget(t.Name(), target) {
		t.Fatalf("testutil.Sandbox: called from %s inside the sandbox of %s", t.Name(), target)
	}
	sandbox.Lock()
	defer sandbox.Unlock()
	if sandbox.ready {
		return true
	}
	// Report the outcome to the parent last, after the test's own cleanups.
	if status := statusFile(); status != nil {
		t.Cleanup(func() {
			s := "pass"
			switch {
			case t.Failed():
				s = "fail"
			case t.Skipped():
				s = "skip"
			}
			fmt.Fprintln(status, s)
			status.Close()
		})
	}
	paths, err := setUpSandbox()
	if err != nil {
		t.Fatalf("testutil.Sandbox: set up: %v", err)
	}
	sandbox.ready, sandbox.paths = true, paths
	t.Cleanup(startReaper())
	return true
}

// statusFile returns the status pipe the parent passed, close-on-exec so the
// test's own child processes do not inherit it.
func statusFile() *os.File {
	fd, err := strconv.Atoi(os.Getenv(envSandboxFD))
	if err != nil || fd < 3 {
		return nil
	}
	unix.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), "sandbox-status")
}

// setUpSandbox turns the fresh namespaces into the sandbox. The order matters:
// nothing is mounted before the checks pass and every mount is private.
func setUpSandbox() (Paths, error) {
	if err := checkFreshNamespaces(); err != nil {
		return Paths{}, fmt.Errorf("refusing to mount: %w", err)
	}
	// 1. No propagation either way, before any mount.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return Paths{}, fmt.Errorf("make mounts private: %w", err)
	}
	if err := checkNoSharedMounts("/proc/self/mountinfo"); err != nil {
		return Paths{}, err
	}
	// The host's hosts file, read before anything is mounted over it.
	hosts, err := os.ReadFile("/etc/hosts")
	if err != nil {
		return Paths{}, fmt.Errorf("read /etc/hosts to shadow it: %w", err)
	}
	// 2. /proc for the new PID namespace, /sys for the new network namespace.
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return Paths{}, fmt.Errorf("mount /proc: %w", err)
	}
	if err := remountSys(); err != nil {
		return Paths{}, err
	}
	// 3. Scratch filesystems.
	for _, dir := range []string{"/tmp", "/var/tmp"} {
		if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() {
			continue // absent or a symlink (to /tmp, usually)
		}
		if err := mountScratch(dir); err != nil {
			return Paths{}, err
		}
	}
	p := Paths{Root: "/tmp/bulwark-sandbox", HostsFile: "/etc/hosts", ProcRoot: "/proc", CgroupRoot: "/sys/fs/cgroup"}
	p.StateDir, p.FileRoot, p.HostsCopy = p.Root+"/state", p.Root+"/files", p.Root+"/hosts"
	for _, d := range []string{p.StateDir, p.FileRoot} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return Paths{}, err
		}
	}
	if err := unix.Mount("tmpfs", p.StateDir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0700"); err != nil {
		return Paths{}, fmt.Errorf("mount state tmpfs: %w", err)
	}
	// 4. A private /etc/hosts.
	if err := os.WriteFile(p.HostsCopy, hosts, 0o644); err != nil {
		return Paths{}, err
	}
	if err := unix.Mount(p.HostsCopy, p.HostsFile, "", unix.MS_BIND, ""); err != nil {
		return Paths{}, fmt.Errorf("bind-mount hosts copy over /etc/hosts: %w", err)
	}
	// 5. Hostname and loopback.
	if err := unix.Sethostname([]byte(SandboxHostname)); err != nil {
		return Paths{}, fmt.Errorf("set hostname: %w", err)
	}
	if err := linkUp("lo"); err != nil {
		return Paths{}, err
	}
	return p, nil
}

// checkFreshNamespaces verifies, from the kernel and not from the environment,
// that this process is PID 1 and that its mount and network namespaces differ
// from the parent's (passed by the parent) and from the host init's (seen through
// the host's /proc, still mounted at this point).
func checkFreshNamespaces() error {
	if os.Getpid() != 1 {
		return fmt.Errorf("pid is %d, not 1: not in a new PID namespace", os.Getpid())
	}
	self := parseNSIDs(nsIDs("/proc/thread-self"))
	parent := parseNSIDs(os.Getenv(envSandboxHost))
	hostInit := parseNSIDs(nsIDs("/proc/1")) // the host's PID 1: /proc is still the host's
	for _, kind := range []string{"mnt", "net"} {
		if self[kind] == "" {
			return fmt.Errorf("cannot read own %s namespace", kind)
		}
		if parent[kind] == "" {
			return fmt.Errorf("parent's %s namespace unknown (%s unset)", kind, envSandboxHost)
		}
		if self[kind] == parent[kind] || self[kind] == hostInit[kind] {
			return fmt.Errorf("%s namespace %s is the parent's or the host's", kind, self[kind])
		}
	}
	return nil
}

// nsIDs returns "mnt:[id] net:[id] pid:[id]" for the process or thread at
// procDir (use /proc/thread-self for the caller: see ownNetNS).
func nsIDs(procDir string) string {
	var ids []string
	for _, kind := range []string{"mnt", "net", "pid"} {
		if link, err := os.Readlink(procDir + "/ns/" + kind); err == nil {
			ids = append(ids, link)
		}
	}
	return strings.Join(ids, " ")
}

// parseNSIDs parses nsIDs output into kind → "kind:[id]".
func parseNSIDs(s string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(s) {
		if kind, _, ok := strings.Cut(f, ":"); ok {
			m[kind] = f
		}
	}
	return m
}

// checkNoSharedMounts fails if any mount still has shared propagation.
func checkNoSharedMounts(mountinfo string) error {
	b, err := os.ReadFile(mountinfo)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(b), "\n") {
		pre, _, _ := strings.Cut(line, " - ")
		for _, f := range strings.Fields(pre) {
			if strings.HasPrefix(f, "shared:") {
				return fmt.Errorf("mount still shared after making it private: %s", line)
			}
		}
	}
	return nil
}

// remountSys mounts a sysfs of the new network namespace on /sys (so
// /sys/class/net shows the sandbox's links) and binds the host's cgroup hierarchy
// back on /sys/fs/cgroup.
func remountSys() error {
	cg, err := unix.Open("/sys/fs/cgroup", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("open /sys/fs/cgroup: %w", err)
	}
	if err == nil {
		defer unix.Close(cg)
	}
	if err := unix.Mount("sysfs", "/sys", "sysfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /sys: %w", err)
	}
	if cg < 0 {
		return nil
	}
	src := fmt.Sprintf("/proc/self/fd/%d", cg)
	if err := unix.Mount(src, "/sys/fs/cgroup", "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind cgroup hierarchy back on /sys/fs/cgroup: %w", err)
	}
	return nil
}

// setEnv returns env with each "KEY=value" of kv set, replacing earlier values.
func setEnv(env []string, kv ...string) []string {
	out := make([]string, 0, len(env)+len(kv))
	for _, e := range env {
		keep := true
		for _, s := range kv {
			if k, _, _ := strings.Cut(s, "="); strings.HasPrefix(e, k+"=") {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, e)
		}
	}
	return append(out, kv...)
}

// mountScratch mounts a fresh tmpfs on dir. When the working directory (the
// package under test, whose testdata tests read) lies under dir, as in a
// checkout under /tmp, it is bound back at the same path on the new tmpfs,
// so relative paths keep working inside the sandbox.
func mountScratch(dir string) error {
	wd, err := os.Getwd()
	keep := err == nil && (wd == dir || strings.HasPrefix(wd, dir+"/"))
	var fd int
	if keep {
		if fd, err = unix.Open(wd, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			return fmt.Errorf("open working directory %s: %w", wd, err)
		}
		defer unix.Close(fd)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	if !keep {
		return nil
	}
	if err := os.MkdirAll(wd, 0o755); err != nil {
		return fmt.Errorf("recreate working directory %s: %w", wd, err)
	}
	if err := unix.Mount(fmt.Sprintf("/proc/self/fd/%d", fd), wd, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind working directory %s back: %w", wd, err)
	}
	return os.Chdir(wd)
}
