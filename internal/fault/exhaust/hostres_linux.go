package exhaust

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// hostRes is one resource the host-wide modes use up: how much of it is
// free, the reserve's default and minimum, and what one helper can hold.
type hostRes struct {
	name string // fd, pid, port: the helper's --resource
	kind string // the fault kind's id
	unit string // what is counted, for messages
	// minReserve is the smallest reserve accepted (DESIGN §6.11).
	minReserve int
	// defaultReserve is the reserve when none is given, from the capacity.
	defaultReserve func(capacity int) int
	// free returns what is free now, the capacity, and a description of
	// the numbers read. held is what the helper holds where the kernel
	// does not list it (bound ports); the other counts include it.
	free func(procRoot string, held int) (free, capacity int, desc string, err error)
	// maxHold is the most one helper may hold, and why.
	maxHold func(h *fault.Host) (int, string)
}

// Host-wide limits of one helper.
const (
	// maxHeldTasks bounds the threads one helper starts: each costs about
	// 32 KiB of kernel stack and runtime memory, so 32768 is about 1 GiB.
	maxHeldTasks = 32768
	// reservedPIDs is the kernel's RESERVED_PIDS: after the pid counter
	// wraps, pids below it are not handed out again.
	reservedPIDs = 300
)

// hostFD is the kernel's file table: fs.file-nr against fs.file-max. It is
// global to the kernel: no namespace has its own.
var hostFD = hostRes{
	name: "fd", kind: FDID, unit: "file handles", minReserve: 1024,
	defaultReserve: func(c int) int { return max(c/20, 4096) },
	free:           fileTableFree,
	maxHold: func(h *fault.Host) (int, string) {
		n, why := heldMax(h)
		return n, "one helper holds at most " + strconv.Itoa(n) + " files (" + why + ")"
	},
}

// hostPID is the task slots of bulwark's pid namespace: its kernel.pid_max
// (per pid namespace since Linux 6.14, the host's before) and the kernel's
// threads-max.
var hostPID = hostRes{
	name: "pid", kind: PIDID, unit: "task slots", minReserve: 64,
	defaultReserve: func(c int) int { return max(c/20, 256) },
	free:           taskSlotsFree,
	maxHold: func(*fault.Host) (int, string) {
		return maxHeldTasks, fmt.Sprintf("one helper starts at most %d threads (about 1 GiB of memory)", maxHeldTasks)
	},
}

// hostPort is the ephemeral port range of bulwark's network namespace
// (net.ipv4.ip_local_port_range, which IPv6 uses too).
var hostPort = hostRes{
	name: "port", kind: PortID, unit: "ephemeral ports", minReserve: 16,
	defaultReserve: func(c int) int { return defaultReserve.of(c) },
	free:           portsFree,
	maxHold: func(h *fault.Host) (int, string) {
		n, why := heldMax(h)
		return n, "one helper holds at most " + strconv.Itoa(n) + " sockets (" + why + ")"
	},
}

// hostResByName finds a resource by its helper name.
func hostResByName(name string) (hostRes, error) {
	for _, r := range []hostRes{hostFD, hostPID, hostPort} {
		if r.name == name {
			return r, nil
		}
	}
	return hostRes{}, fmt.Errorf("unknown host-wide resource %q", name)
}

// readInts reads the whitespace-separated integers of a proc file.
func readInts(path string) ([]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a number", path, f)
		}
		out = append(out, int(min(n, math.MaxInt32)))
	}
	return out, nil
}

// fileTableFree reads fs.file-nr: "allocated unused max".
func fileTableFree(procRoot string, _ int) (int, int, string, error) {
	p := filepath.Join(procRoot, "sys", "fs", "file-nr")
	v, err := readInts(p)
	if err != nil {
		return 0, 0, "", err
	}
	if len(v) != 3 || v[2] <= 0 {
		return 0, 0, "", fmt.Errorf("%s: want \"allocated unused max\", got %v", p, v)
	}
	return max(v[2]-v[0], 0), v[2], fmt.Sprintf("fs.file-nr: %d of %d file handles allocated", v[0], v[2]), nil
}

// taskSlotsFree is the smaller of the pids the namespace can still hand out
// (pid_max less the RESERVED_PIDS skipped after a wrap, less its tasks) and
// the kernel's threads-max less every task of the host (loadavg). Counting
// the reserved pids as taken errs on the side of leaving more free.
func taskSlotsFree(procRoot string, _ int) (int, int, string, error) {
	pm, err := readInts(filepath.Join(procRoot, "sys", "kernel", "pid_max"))
	if err != nil {
		return 0, 0, "", err
	}
	tm, err := readInts(filepath.Join(procRoot, "sys", "kernel", "threads-max"))
	if err != nil {
		return 0, 0, "", err
	}
	if len(pm) != 1 || len(tm) != 1 {
		return 0, 0, "", errors.New("pid_max or threads-max is not one number")
	}
	tasks, err := countTasks(procRoot)
	if err != nil {
		return 0, 0, "", err
	}
	all, err := loadavgTasks(procRoot)
	if err != nil {
		return 0, 0, "", err
	}
	byPID := pm[0] - reservedPIDs - tasks
	byThreads := tm[0] - all
	capacity := min(pm[0]-reservedPIDs, tm[0])
	desc := fmt.Sprintf("kernel.pid_max %d (less %d reserved) with %d tasks in this pid namespace; threads-max %d with %d tasks on the host", pm[0], reservedPIDs, tasks, tm[0], all)
	return max(min(byPID, byThreads), 0), capacity, desc, nil
}

// countTasks counts the tasks (threads) visible in procRoot.
func countTasks(procRoot string) (int, error) {
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		ts, err := os.ReadDir(filepath.Join(procRoot, e.Name(), "task"))
		if err != nil {
			continue // exited meanwhile
		}
		n += len(ts)
	}
	return n, nil
}

// loadavgTasks reads the host's task count from loadavg ("… 3/280 …").
func loadavgTasks(procRoot string) (int, error) {
	p := filepath.Join(procRoot, "loadavg")
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 4 {
		return 0, fmt.Errorf("%s: %q has no running/total field", p, b)
	}
	_, total, ok := strings.Cut(f[3], "/")
	n, err := strconv.Atoi(total)
	if !ok || err != nil {
		return 0, fmt.Errorf("%s: %q is not running/total", p, f[3])
	}
	return n, nil
}

// portsFree is the range's size less the ports TCP sockets of the network
// namespace use (any state, listed in net/tcp and net/tcp6) less held: a
// bound socket that neither listens nor connects is not listed there.
func portsFree(procRoot string, held int) (int, int, string, error) {
	lo, hi, err := portRange(procRoot)
	if err != nil {
		return 0, 0, "", err
	}
	used, err := localPortsInRange(procRoot, lo, hi)
	if err != nil {
		return 0, 0, "", err
	}
	size := hi - lo + 1
	return max(size-used-held, 0), size, fmt.Sprintf("ip_local_port_range %d-%d (%d ports), %d in use by listed TCP sockets, %d held", lo, hi, size, used, held), nil
}

// localPortsInRange counts the distinct local ports in [lo, hi] of the TCP
// sockets in net/tcp and net/tcp6.
func localPortsInRange(procRoot string, lo, hi int) (int, error) {
	seen := map[uint16]bool{}
	err := eachTCPSocket(procRoot, func(local, _ netip.AddrPort, _ string) {
		if int(local.Port()) >= lo && int(local.Port()) <= hi {
			seen[local.Port()] = true
		}
	})
	if err != nil {
		return 0, err
	}
	return len(seen), nil
}
