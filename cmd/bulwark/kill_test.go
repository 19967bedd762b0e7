//go:build linux

package main_test

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"
)

// syscallKill sends SIGKILL to a process this test started (a guard of the
// sandbox) and waits until it is gone or a zombie.
func syscallKill(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return
	}
	for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || len(b) > 0 && containsZombie(b) {
			return
		}
	}
	t.Fatalf("pid %d survived SIGKILL", pid)
}

func containsZombie(stat []byte) bool {
	for i := len(stat) - 1; i > 0; i-- {
		if stat[i] == ')' {
			return i+2 < len(stat) && stat[i+2] == 'Z'
		}
	}
	return false
}
