//go:build linux

package testutil

import (
	"bufio"
	"bytes"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// startReaper makes this process (the sandbox's PID 1) reap orphans: processes
// reparented to it when their parent died, which would otherwise stay zombies and
// make "wait until the process is gone" loops hang. It must not steal the exit
// status of children os/exec started (exec.Cmd.Wait would then fail), so it
// leaves alone any zombie this process holds a pidfd for: os/exec creates one at
// clone time (CLONE_PIDFD) and keeps it until Wait. Without pidfd support it does
// nothing. The returned func stops it (for goleak) after a last sweep.
func startReaper() (stop func()) {
	if fd, err := unix.PidfdOpen(os.Getpid(), 0); err != nil {
		return func() {}
	} else {
		unix.Close(fd)
	}
	sig := make(chan os.Signal, 16)
	signal.Notify(sig, unix.SIGCHLD)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-sig:
			case <-tick.C:
			}
			reapOrphans()
		}
	}()
	return func() {
		signal.Stop(sig)
		close(quit)
		<-done
		reapOrphans()
	}
}

// reapOrphans reaps every zombie child of this process that os/exec does not own.
// Zombies are listed before the pidfds: a child os/exec started got its pidfd
// before it could become a zombie, and keeps it until os/exec reaps it.
func reapOrphans() {
	zombies := zombieChildren("/proc", os.Getpid())
	if len(zombies) == 0 {
		return
	}
	owned := pidfdPIDs()
	for _, pid := range zombies {
		if owned[pid] {
			continue
		}
		var ws unix.WaitStatus
		_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
	}
}

// zombieChildren lists the zombie processes whose parent is ppid.
func zombieChildren(procRoot string, ppid int) []int {
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readProcStat(procRoot, pid)
		if err == nil && st.State == "Z" && st.PPID == ppid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// pidfdPIDs returns the pids this process holds pidfds for ("Pid:" in fdinfo).
func pidfdPIDs() map[int]bool {
	owned := map[int]bool{}
	files, _ := filepath.Glob("/proc/self/fdinfo/*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || !bytes.Contains(b, []byte("Pid:")) {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "Pid:"); ok {
				if pid, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
					owned[pid] = true
				}
			}
		}
	}
	return owned
}
