package netfault

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// bypassDrivers are the drivers that take a NIC away from the kernel's
// network stack for user-space packet processing (DPDK and friends).
var bypassDrivers = []string{"vfio-pci", "uio_pci_generic", "igb_uio"}

// KernelBypass lists the kernel-bypass network stacks present under the
// sysfs and /dev roots given: Solarflare/AMD OpenOnload (its module or
// device), RDMA devices (InfiniBand, RoCE, iWARP), and network-class PCI
// devices bound to a user-space I/O driver (DPDK). Traffic on such a stack
// never meets the kernel's qdiscs or nftables, so a network fault's rules
// read back fine and have no effect on it: the effect check decides, and
// `fault kinds` says so (DESIGN §13).
func KernelBypass(sysRoot, devRoot string) []string {
	var found []string
	if exists(filepath.Join(sysRoot, "module", "onload")) || exists(filepath.Join(devRoot, "onload")) {
		found = append(found, "OpenOnload (user-space TCP/UDP for accelerated processes)")
	}
	if ents, _ := os.ReadDir(filepath.Join(sysRoot, "class", "infiniband")); len(ents) > 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		found = append(found, "RDMA devices "+strings.Join(names, ", "))
	}
	for _, drv := range bypassDrivers {
		ents, _ := os.ReadDir(filepath.Join(sysRoot, "bus", "pci", "drivers", drv))
		for _, e := range ents {
			class, err := os.ReadFile(filepath.Join(sysRoot, "bus", "pci", "drivers", drv, e.Name(), "class"))
			if err == nil && strings.HasPrefix(strings.TrimSpace(string(class)), "0x02") { // PCI class 02: network controller
				found = append(found, "NIC "+e.Name()+" bound to "+drv+" (DPDK or another user-space driver)")
			}
		}
	}
	return found
}

// bypassNote is the note network kinds show in `fault kinds` when a
// kernel-bypass stack is present, or "".
func bypassNote(sysRoot, devRoot string) string {
	found := KernelBypass(sysRoot, devRoot)
	if len(found) == 0 {
		return ""
	}
	return "kernel-bypass networking present (" + strings.Join(found, "; ") +
		"): traffic on it never meets these rules; only the effect check shows whether a fault works"
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
