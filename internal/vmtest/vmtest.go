package vmtest

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// EnvInVM is set to "1" for the test binary that Run starts inside the VM.
const EnvInVM = "BULWARK_IN_VM"

// DefaultTimeout bounds a whole Run (boot, tests, power-off) when
// Options.Timeout is zero.
const DefaultTimeout = 5 * time.Minute

// MemoryMiB is the VM's memory.
const MemoryMiB = 1024

// Options says what Run runs in the VM.
type Options struct {
	// Run is the -test.run pattern for the test binary inside the VM, for
	// example "^TestNetem". Required: an empty pattern would run every test
	// of the package again, including the one calling Run.
	Run string
	// Modules are kernel modules to load before the tests, by name
	// ("sch_netem", "nft-numgen"); their dependencies are added from
	// modules.dep and loaded first. Built-in ones are skipped. See NetworkModules.
	Modules []string
	// Timeout bounds the whole run; zero means DefaultTimeout. It is cut to
	// end a little before the test's own deadline.
	Timeout time.Duration
	// Env are extra KEY=value variables for the test binary in the VM. CI is
	// passed through from the host on its own, and BULWARK_IN_VM=1 is always set.
	Env []string
	// Args are extra flags for the test binary ("-test.bench=.", "-test.short").
	Args []string
}

// Result is what a Run measured.
type Result struct {
	ExitCode int           // the test binary's exit status inside the VM
	Boot     time.Duration // qemu start → /init running
	Modules  time.Duration // qemu start → modules loaded (the tests start)
	Marker   time.Duration // qemu start → the exit marker (boot plus the tests)
	Total    time.Duration // everything, including building the initramfs and qemu's exit
}

// InVM reports whether this process is the test binary Run started inside the VM.
func InVM() bool {
	return os.Getenv(EnvInVM) == "1"
}

// Available returns nil when Run can boot a VM here, or why not: not a
// linux/amd64 host, no qemu-system-x86_64, no kernel image with its modules
// directory (see EnvKernelDir), no statically linked busybox.
func Available() error {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return fmt.Errorf("vmtest needs a linux/amd64 host (the test binary runs in an x86-64 Linux guest), not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	_, err := findParts()
	return err
}

// validate checks o and returns the module list to use.
func (o Options) validate() error {
	var errs []error
	if o.Run == "" {
		errs = append(errs, errors.New("vmtest.Options.Run is empty: name the tests to run inside the VM (an empty pattern would run the caller again)"))
	}
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("vmtest.Options.Timeout is negative (%v)", o.Timeout))
	}
	for i, a := range append([]string{o.Run}, o.Args...) {
		if strings.ContainsAny(a, "\n\r\x00") {
			errs = append(errs, fmt.Errorf("vmtest.Options: argument %d (%q) contains a newline or NUL", i, a))
		}
	}
	for _, kv := range o.Env {
		if err := checkEnv(kv); err != nil {
			errs = append(errs, fmt.Errorf("vmtest.Options.Env: %w", err))
		}
	}
	return errors.Join(errs...)
}

// checkEnv checks that kv is KEY=value with a shell-safe key and a one-line value.
func checkEnv(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok {
		return fmt.Errorf("%q is not KEY=value", kv)
	}
	for i, r := range k {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return fmt.Errorf("%q: %q is not a variable name", kv, k)
		}
	}
	if k == "" {
		return fmt.Errorf("%q: empty name", kv)
	}
	if strings.ContainsAny(v, "\n\r\x00") {
		return fmt.Errorf("%s: the value contains a newline or NUL", k)
	}
	return nil
}
