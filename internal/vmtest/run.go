package vmtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Run boots Debian's kernel under qemu-system-x86_64 (software emulation:
// -cpu max -smp 2 -m 1G, no KVM) with an initramfs holding busybox, opts.Modules
// and their dependencies, and the current test binary with its loader and
// libraries; it runs that binary with -test.run opts.Run -test.v
// -test.count=1 and a -test.timeout inside the budget, BULWARK_IN_VM=1 and CI
// passed through, and powers the VM off.
//
// The serial console is streamed into t.Log line by line ("vm| " prefix) as
// it arrives. t fails when the tests inside fail, when a module does not
// load, when the pattern ran no test, or when the exit marker never comes
// (a boot failure, or the timeout: then qemu is killed). If every test inside
// skipped, t is skipped. When Available fails, t is skipped, or failed when
// CI=true. Inside the VM, Run skips t (no nesting).
//
// Run returns what it measured. Call it from a test that the pattern does not
// match; the tests it runs check InVM and skip outside the VM.
func Run(t *testing.T, opts Options) Result {
	t.Helper()
	start := time.Now()
	if InVM() {
		t.Skip("vmtest.Run: already inside the VM")
	}
	if err := opts.validate(); err != nil {
		t.Fatal(err)
	}
	Require(t)
	v, err := prepare(t, opts)
	if err != nil {
		t.Fatalf("vmtest: %v", err)
	}
	res := v.boot(t)
	res.Total = time.Since(start)
	t.Logf("vmtest: after qemu start: /init %v, modules loaded %v, tests done %v; total %v (exit %d)",
		res.Boot.Round(time.Millisecond), res.Modules.Round(time.Millisecond), res.Marker.Round(time.Millisecond),
		res.Total.Round(time.Millisecond), res.ExitCode)
	return res
}

// Require skips tb when Available fails, or fails it when CI=true (as
// testutil.Require does), giving the reason. Run calls it.
func Require(tb testing.TB) {
	tb.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("vmtest: cannot boot a VM: %v; failing because CI=true", err)
		}
		tb.Skipf("vmtest: cannot boot a VM: %v", err)
	}
}

// vm is a prepared VM: the command line and what to look for on the console.
type vm struct {
	qemu    string
	args    []string
	marker  string
	run     string // Options.Run, for messages
	timeout time.Duration
}

// prepare builds the initramfs (cached base plus this binary) and qemu's argv.
func prepare(t *testing.T, opts Options) (*vm, error) {
	p, err := findParts()
	if err != nil {
		return nil, err
	}
	db, err := loadModuleDB(p.Kernel.ModDir)
	if err != nil {
		return nil, err
	}
	order, builtin, err := db.resolve(opts.Modules)
	if err != nil {
		return nil, err
	}
	if len(builtin) > 0 {
		t.Logf("vmtest: built into %s, not loaded: %s", p.Kernel.Version, strings.Join(builtin, ", "))
	}
	base, err := baseArchive(p, order)
	if err != nil {
		return nil, err
	}
	timeout := runTimeout(t, opts.Timeout)
	rf, err := runFilesFor(opts, timeout)
	if err != nil {
		return nil, err
	}
	initrd := filepath.Join(t.TempDir(), "initrd.cpio")
	if err := writeInitrd(initrd, rf, base); err != nil {
		return nil, fmt.Errorf("write initramfs: %w", err)
	}
	args := []string{
		"-machine", "accel=tcg", "-cpu", "max", "-smp", "2", "-m", fmt.Sprint(MemoryMiB),
		"-nodefaults", "-nographic", "-serial", "stdio", "-monitor", "none", "-no-reboot",
		"-kernel", p.Kernel.Image, "-initrd", initrd,
		"-append", "console=ttyS0 panic=-1 quiet loglevel=4 rdinit=/init random.trust_cpu=on",
	}
	return &vm{qemu: p.QEMU, args: args, marker: rf.Marker, run: opts.Run, timeout: timeout}, nil
}

// runTimeout is the budget of a run: opts' (or DefaultTimeout), ending at
// the latest 5 s before t's deadline.
func runTimeout(t *testing.T, want time.Duration) time.Duration {
	if want == 0 {
		want = DefaultTimeout
	}
	if dl, ok := t.Deadline(); ok {
		want = min(want, time.Until(dl)-5*time.Second)
	}
	return max(want, time.Second)
}

// runFilesFor gathers the per-run part: this binary, its libraries, the marker,
// arguments and environment.
func runFilesFor(opts Options, timeout time.Duration) (runFiles, error) {
	exe, err := os.Executable()
	if err != nil {
		return runFiles{}, err
	}
	libs, libDirs, err := elfDeps(exe)
	if err != nil {
		return runFiles{}, fmt.Errorf("libraries of %s: %w", exe, err)
	}
	nonce := make([]byte, 8)
	if _, err := rand.Read(nonce); err != nil {
		return runFiles{}, err
	}
	dir, err := os.Getwd()
	if err != nil || strings.ContainsAny(dir, "\n\r") {
		dir = "/"
	}
	// The tests inside time out (with their goroutine dump) before qemu is killed.
	inner := max(timeout*9/10-15*time.Second, timeout/2)
	args := append([]string{"-test.run=" + opts.Run, "-test.v=true", "-test.count=1",
		"-test.timeout=" + inner.String()}, opts.Args...)
	env := []string{EnvInVM + "=1", "HOME=/root", "TMPDIR=/tmp"}
	if ci, ok := os.LookupEnv("CI"); ok && checkEnv("CI="+ci) == nil {
		env = append(env, "CI="+ci)
	}
	if len(libDirs) > 0 {
		env = append(env, "LD_LIBRARY_PATH="+strings.Join(libDirs, ":"))
	}
	env = append(env, opts.Env...)
	return runFiles{Test: exe, Libs: libs, Marker: "BULWARK-VMTEST-" + hex.EncodeToString(nonce),
		Args: args, Env: env, Dir: dir}, nil
}

// writeInitrd writes the per-run archive followed by the cached base archive:
// the kernel unpacks concatenated cpio archives in turn.
func writeInitrd(path string, rf runFiles, base string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = writeRun(bw, rf)
	if err == nil {
		err = appendFile(bw, base)
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func appendFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// exitGrace is how long qemu may take to exit after the exit marker before it
// is killed (poweroff -f, or the panic of an exiting /init with -no-reboot,
// normally ends it at once).
const exitGrace = 10 * time.Second

// boot runs qemu, streams the console into t.Log and judges the outcome.
func (v *vm) boot(t *testing.T) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), v.timeout)
	defer cancel()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatalf("vmtest: %v", err)
	}
	defer outR.Close()
	cmd := exec.CommandContext(ctx, v.qemu, v.args...)
	cmd.Stdout, cmd.Stderr = outW, outW
	cmd.WaitDelay = 5 * time.Second
	setPdeathsig(cmd)

	start := time.Now()
	con := newConsole(v.marker, start)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var grace *time.Timer
		con.read(outR, func(line string) {
			t.Log("vm| " + line)
			if con.exited && grace == nil { // powered off by now, normally
				grace = time.AfterFunc(exitGrace, cancel)
			}
		})
		if grace != nil {
			grace.Stop()
		}
	}()
	waitErr := startAndWait(cmd, outW)
	<-done
	res := con.result()
	v.judge(t, ctx.Err() != nil, con, waitErr)
	return res
}

// judge fails or skips t from what the console showed.
func (v *vm) judge(t *testing.T, timedOut bool, con *console, waitErr error) {
	t.Helper()
	switch {
	case timedOut && !con.exited:
		t.Errorf("vmtest: no exit marker within %v: qemu (%s) killed; see the vm| lines above", v.timeout, v.qemu)
		return
	case !con.exited:
		t.Errorf("vmtest: qemu exited (%v) without the exit marker: the VM did not boot or /init died; see the vm| lines above", waitErr)
		return
	}
	for _, m := range con.insmodFailed {
		t.Errorf("vmtest: module %s did not load in the VM", m)
	}
	switch {
	case con.exitCode != 0:
		t.Errorf("vmtest: the tests inside the VM failed (exit status %d, -test.run %s)", con.exitCode, v.run)
	case con.noTests:
		t.Errorf("vmtest: -test.run %s matched no test inside the VM", v.run)
	case con.passed == 0 && con.failed == 0 && con.skipped > 0:
		t.Skipf("vmtest: every test inside the VM skipped (%d); see the vm| lines above", con.skipped)
	}
}
