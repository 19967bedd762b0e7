//go:build !linux

package testutil

import (
	"errors"
	"os/exec"
	"runtime"
)

func init() {
	notLinux := func() error { return errors.New("needs linux, this is " + runtime.GOOS) }
	for _, c := range []string{CapRoot, CapNetNS, CapMountNS, CapPIDNS, CapSandbox, CapNFTables, CapTC,
		CapNetem, CapIFB, CapVeth, CapCgroup, CapCgroupV1, CapCgroupV2, CapSystemd, CapLinux} {
		probes[c] = notLinux
	}
	probes[CapWindows] = func() error {
		if runtime.GOOS != "windows" {
			return errors.New("needs windows")
		}
		return nil
	}
	probes[CapPostgres] = func() error {
		for _, b := range []string{"initdb", "pg_ctl"} {
			if _, err := exec.LookPath(b); err != nil {
				return err
			}
		}
		return nil
	}
	probes[CapQEMU] = func() error { _, err := exec.LookPath("qemu-system-x86_64"); return err }
}
