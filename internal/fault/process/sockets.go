package process

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// tcpListen is the TCP_LISTEN state in /proc/net/tcp{,6}.
const tcpListen = "0A"

// socketTables lists the proc files that hold the sockets of a protocol
// ("tcp", "udp" or "any"). They are read under the host's proc root, so they
// show the sockets of bulwark's own network namespace.
func socketTables(proto string) []string {
	switch proto {
	case "tcp":
		return []string{"tcp", "tcp6"}
	case "udp":
		return []string{"udp", "udp6"}
	}
	return []string{"tcp", "tcp6", "udp", "udp6"}
}

func protoText(proto string) string {
	if proto == "any" || proto == "" {
		return "TCP or UDP"
	}
	return strings.ToUpper(proto)
}

// portInodes returns the inodes of the sockets listening on a local TCP port
// or bound to a local UDP port.
func portInodes(h *fault.Host, proto string, port int) (map[uint64]bool, error) {
	inodes := map[uint64]bool{}
	for _, table := range socketTables(proto) {
		path := filepath.Join(h.ProcRoot, "net", table)
		if err := scanSockets(path, strings.HasPrefix(table, "tcp"), port, inodes); err != nil {
			if os.IsNotExist(err) && strings.HasSuffix(table, "6") {
				continue // no IPv6 in this kernel
			}
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	return inodes, nil
}

// scanSockets adds to inodes the sockets in one /proc/net table whose local
// port is port (TCP: only in state LISTEN).
func scanSockets(path string, tcp bool, port int, inodes map[uint64]bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		p, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil || int(p) != port || tcp && f[3] != tcpListen {
			continue
		}
		if ino, err := strconv.ParseUint(f[9], 10, 64); err == nil && ino != 0 {
			inodes[ino] = true
		}
	}
	return sc.Err()
}

// pidsOnPort lists, in ascending order, the processes holding an open file
// descriptor on a socket listening on (TCP) or bound to (UDP) the local port.
// Several processes share one socket after a fork (a master and its
// workers), so the result may hold more than one pid.
func pidsOnPort(h *fault.Host, proto string, port int) ([]int, error) {
	inodes, err := portInodes(h, proto, port)
	if err != nil || len(inodes) == 0 {
		return nil, err
	}
	ents, err := os.ReadDir(h.ProcRoot)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		if holdsSocket(filepath.Join(h.ProcRoot, e.Name(), "fd"), inodes) {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids, nil
}

// holdsSocket reports whether any descriptor in the fd directory is one of
// the sockets. Processes that exit, or whose fds cannot be read, are skipped.
func holdsSocket(fdDir string, inodes map[uint64]bool) bool {
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		return false
	}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
		if err != nil {
			continue
		}
		rest, ok := strings.CutPrefix(link, "socket:[")
		if !ok {
			continue
		}
		if ino, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64); err == nil && inodes[ino] {
			return true
		}
	}
	return false
}
