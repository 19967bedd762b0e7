package vmtest

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Environment variables that point the harness at its parts.
const (
	// EnvKernelDir is the root of an unpacked kernel package (it holds
	// boot/vmlinuz-VERSION and lib/modules/VERSION), for example the output of
	// "dpkg -x linux-image-6.1.0-56-amd64_*.deb DIR". Unset: the host's /.
	EnvKernelDir = "BULWARK_VM_KERNEL_DIR"
	// EnvBusybox is the path of a statically linked busybox. Unset: the first of
	// /usr/bin/busybox, /bin/busybox and busybox on PATH.
	EnvBusybox = "BULWARK_VM_BUSYBOX"
	// EnvQEMU is the qemu-system-x86_64 binary. Unset: looked up on PATH.
	EnvQEMU = "BULWARK_VM_QEMU"
)

// kernel is a kernel image with its matching modules directory.
type kernel struct {
	Version string // "6.1.0-56-amd64"
	Image   string // .../boot/vmlinuz-6.1.0-56-amd64
	ModDir  string // .../lib/modules/6.1.0-56-amd64 (holds modules.dep)
}

// findKernel returns the newest kernel under root (EnvKernelDir, or "/") whose
// modules directory with a modules.dep is present. Debian's images are named
// vmlinuz-VERSION-amd64; any vmlinuz-* with its modules qualifies.
func findKernel() (kernel, error) {
	root := os.Getenv(EnvKernelDir)
	if root == "" {
		root = "/"
	}
	images, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	var found []kernel
	var why []string
	for _, img := range images {
		ver := strings.TrimPrefix(filepath.Base(img), "vmlinuz-")
		mod := filepath.Join(root, "lib", "modules", ver)
		if _, err := os.Stat(filepath.Join(mod, "modules.dep")); err != nil {
			why = append(why, fmt.Sprintf("%s has no %s/modules.dep", img, mod))
			continue
		}
		if f, err := os.Open(img); err != nil {
			why = append(why, fmt.Sprintf("%s: %v", img, err))
			continue
		} else {
			f.Close()
		}
		found = append(found, kernel{Version: ver, Image: img, ModDir: mod})
	}
	if len(found) == 0 {
		msg := fmt.Sprintf("no kernel image with its modules under %s (want boot/vmlinuz-VERSION and lib/modules/VERSION/modules.dep; install linux-image-amd64 or set %s)", root, EnvKernelDir)
		if len(why) > 0 {
			msg += ": " + strings.Join(why, "; ")
		}
		return kernel{}, errors.New(msg)
	}
	sort.Slice(found, func(i, j int) bool { return versionLess(found[i].Version, found[j].Version) })
	return found[len(found)-1], nil
}

// versionLess orders kernel versions by their numeric fields ("6.1.0-56" < "6.1.0-112").
func versionLess(a, b string) bool {
	fa, fb := versionFields(a), versionFields(b)
	for i := 0; i < len(fa) && i < len(fb); i++ {
		if fa[i] != fb[i] {
			return fa[i] < fb[i]
		}
	}
	return len(fa) < len(fb)
}

func versionFields(v string) []int {
	var out []int
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r < '0' || r > '9' }) {
		n := 0
		for _, r := range f {
			n = n*10 + int(r-'0')
		}
		out = append(out, n)
	}
	return out
}

// findBusybox returns a statically linked busybox: EnvBusybox, else the usual
// places of Debian's busybox-static.
func findBusybox() (string, error) {
	cands := []string{os.Getenv(EnvBusybox)}
	if cands[0] == "" {
		cands = []string{"/usr/bin/busybox", "/bin/busybox"}
		if p, err := exec.LookPath("busybox"); err == nil {
			cands = append(cands, p)
		}
	}
	var why []string
	for _, c := range cands {
		err := checkStatic(c)
		if err == nil {
			return c, nil
		}
		why = append(why, err.Error())
	}
	return "", fmt.Errorf("no statically linked busybox (install busybox-static or set %s): %s", EnvBusybox, strings.Join(why, "; "))
}

// checkStatic fails unless path is an ELF executable without a program
// interpreter (statically linked).
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked", path)
		}
	}
	return nil
}

// findQEMU returns the qemu-system-x86_64 binary.
func findQEMU() (string, error) {
	if p := os.Getenv(EnvQEMU); p != "" {
		return exec.LookPath(p)
	}
	p, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return "", fmt.Errorf("qemu-system-x86_64 not found (install qemu-system-x86 or set %s): %w", EnvQEMU, err)
	}
	return p, nil
}

// parts are the host files a VM is made of.
type parts struct {
	QEMU    string
	Busybox string
	Kernel  kernel
}

// findParts finds qemu, busybox and the kernel, joining every problem.
func findParts() (parts, error) {
	var p parts
	var errs []error
	var err error
	if p.QEMU, err = findQEMU(); err != nil {
		errs = append(errs, err)
	}
	if p.Busybox, err = findBusybox(); err != nil {
		errs = append(errs, err)
	}
	if p.Kernel, err = findKernel(); err != nil {
		errs = append(errs, err)
	}
	return p, errors.Join(errs...)
}
