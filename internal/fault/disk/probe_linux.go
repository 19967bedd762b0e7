package disk

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// ioFaultProbe is what the host offers for disk.latency and disk.error.
type ioFaultProbe struct {
	debugfs   string            // where debugfs is mounted, "" when it is not
	failDirs  []string          // fail_make_request, fail_io_timeout found under debugfs
	config    map[string]string // kernel config options read, nil when unknown
	configSrc string
	dm        bool // device-mapper is in the kernel (/proc/misc)
}

// configKeys are the kernel options that decide the mechanisms.
var configKeys = []string{"CONFIG_FAULT_INJECTION", "CONFIG_FAIL_MAKE_REQUEST", "CONFIG_FAIL_IO_TIMEOUT",
	"CONFIG_BLK_DEV_DM", "CONFIG_DM_DELAY", "CONFIG_DM_FLAKEY", "CONFIG_MODULES"}

// probeHost reads h.ProcRoot: self/mountinfo for debugfs, config.gz for the
// kernel's options, misc for device-mapper.
func probeHost(h *fault.Host) ioFaultProbe {
	var p ioFaultProbe
	if b, err := os.ReadFile(filepath.Join(h.ProcRoot, "self", "mountinfo")); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if sep := slices.Index(f, "-"); sep >= 5 && len(f) > sep+1 && f[sep+1] == "debugfs" {
				p.debugfs = f[4]
				break
			}
		}
	}
	if p.debugfs != "" {
		for _, d := range []string{"fail_make_request", "fail_io_timeout"} {
			if st, err := os.Stat(filepath.Join(p.debugfs, d)); err == nil && st.IsDir() {
				p.failDirs = append(p.failDirs, filepath.Join(p.debugfs, d))
			}
		}
	}
	p.configSrc = filepath.Join(h.ProcRoot, "config.gz")
	p.config, _ = readKernelConfig(p.configSrc)
	if b, err := os.ReadFile(filepath.Join(h.ProcRoot, "misc")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[1] == "device-mapper" {
				p.dm = true
			}
		}
	}
	if p.config != nil && (p.config["CONFIG_BLK_DEV_DM"] == "y" || p.config["CONFIG_BLK_DEV_DM"] == "m") {
		p.dm = true
	}
	return p
}

// readKernelConfig reads the options in configKeys from a gzipped kernel
// config; an option "# X is not set" reads as "n".
func readKernelConfig(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b, err := io.ReadAll(io.LimitReader(z, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		for _, k := range configKeys {
			if v, ok := strings.CutPrefix(line, k+"="); ok {
				out[k] = v
			} else if line == "# "+k+" is not set" {
				out[k] = "n"
			}
		}
	}
	return out, nil
}

// option describes one config option for a reason.
func (p ioFaultProbe) option(k string) string {
	if p.config == nil {
		return k + " unknown (no " + p.configSrc + ")"
	}
	v, ok := p.config[k]
	if !ok || v == "n" {
		return k + " is not set"
	}
	return k + "=" + v
}

// probeIOFaults says why kind cannot run on h: every mechanism looked for,
// what the host has of it, and why that is not enough. It never returns nil:
// no mechanism found so far can be scoped to one process's files with an
// exact restore.
func probeIOFaults(h *fault.Host, kind string) error {
	p := probeHost(h)
	var why []string
	// fail_make_request / fail_io_timeout (CONFIG_FAULT_INJECTION).
	switch {
	case len(p.failDirs) > 0:
		why = append(why, fmt.Sprintf("%s: present, but its probability, interval and times are one setting for the whole host, "+
			"it fails whole requests of a device (scoped to a task only through /proc/PID/make-it-fail, never to a file), and it never delays; "+
			"bulwark does not drive it", strings.Join(p.failDirs, ", ")))
	case p.config != nil && p.config["CONFIG_FAIL_MAKE_REQUEST"] == "y":
		why = append(why, "fail_make_request: built in (CONFIG_FAIL_MAKE_REQUEST=y) but debugfs is not mounted, and it is host-global and error-only even when it is")
	default:
		why = append(why, "fail_make_request/fail_io_timeout: not in this kernel ("+p.option("CONFIG_FAULT_INJECTION")+", "+p.option("CONFIG_FAIL_MAKE_REQUEST")+")")
	}
	// dm-delay / dm-flakey (device-mapper).
	if p.dm {
		why = append(why, "dm-delay/dm-flakey: device-mapper is present ("+p.option("CONFIG_DM_DELAY")+", "+p.option("CONFIG_DM_FLAKEY")+
			"), but a delay or flakey table acts on a whole device, for every process using it, and only where the filesystem already sits on a device-mapper device whose table can be reloaded; it cannot be scoped to one process's files")
	} else {
		why = append(why, "dm-delay/dm-flakey: no device-mapper in this kernel ("+p.option("CONFIG_BLK_DEV_DM")+", no device-mapper in "+filepath.Join(h.ProcRoot, "misc")+")")
	}
	why = append(why, "a FUSE interposer (Chaos Mesh IOChaos style) would have to be mounted over the target's directory in its mount namespace and take over its open descriptors with ptrace, which bulwark does not do")
	what := "delay"
	if kind == ErrorID {
		what = "fail"
	}
	return fmt.Errorf("no kernel mechanism to %s one process's file I/O safely on this host: %s", what, strings.Join(why, "; "))
}
