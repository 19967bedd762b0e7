//go:build linux

package testutil

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// TakeSnapshot takes a HostSnapshot. It only reads: netlink dumps and nftables
// lists through handles bound to opts.NetNSFd, /proc files and the files asked for.
func TakeSnapshot(opts SnapshotOptions) (*HostSnapshot, error) {
	s := &HostSnapshot{opts: opts, entries: map[string]string{}}
	if !opts.NoNet {
		fd := opts.NetNSFd
		if fd == 0 {
			own, err := unix.Open(ownNetNS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return nil, fmt.Errorf("open own netns: %w", err)
			}
			defer unix.Close(own)
			fd = own
		}
		if err := s.snapNFTables(fd); err != nil {
			return nil, fmt.Errorf("snapshot nftables: %w", err)
		}
		if err := s.snapLinks(fd); err != nil {
			return nil, fmt.Errorf("snapshot links: %w", err)
		}
	}
	if !opts.NoProcs {
		if err := s.snapProcs(); err != nil {
			return nil, fmt.Errorf("snapshot processes: %w", err)
		}
	}
	if err := s.snapFiles(); err != nil {
		return nil, err
	}
	return s, nil
}

// snapProcs records every process under ProcRoot as "proc PID" = "comm=… state=…".
// Only the state class is compared (a process flips between R and S by itself).
func (s *HostSnapshot) snapProcs() error {
	root := s.opts.ProcRoot
	if root == "" {
		root = "/proc"
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, err := readProcStat(root, pid)
		if err != nil {
			continue // exited meanwhile
		}
		if s.opts.IgnoreProcess != nil && s.opts.IgnoreProcess(p) {
			continue
		}
		s.put(fmt.Sprintf("proc %d", pid), fmt.Sprintf("comm=%s state=%s", p.Comm, p.StateClass()))
	}
	return nil
}

// ReadProc reads one process from procRoot ("" means /proc).
func ReadProc(procRoot string, pid int) (Proc, error) {
	if procRoot == "" {
		procRoot = "/proc"
	}
	return readProcStat(procRoot, pid)
}

// readProcStat parses procRoot/PID/stat; comm may hold spaces and parentheses,
// so the fields after it are found from the last ')'.
func readProcStat(procRoot string, pid int) (Proc, error) {
	b, err := os.ReadFile(fmt.Sprintf("%s/%d/stat", procRoot, pid))
	if err != nil {
		return Proc{}, err
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return Proc{}, fmt.Errorf("parse %s/%d/stat", procRoot, pid)
	}
	rest := strings.Fields(s[end+1:])
	if len(rest) < 2 {
		return Proc{}, fmt.Errorf("parse %s/%d/stat: short", procRoot, pid)
	}
	ppid, err := strconv.Atoi(rest[1])
	if err != nil {
		return Proc{}, fmt.Errorf("parse %s/%d/stat ppid: %w", procRoot, pid, err)
	}
	return Proc{PID: pid, PPID: ppid, Comm: s[open+1 : end], State: rest[0]}, nil
}
