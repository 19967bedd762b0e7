//go:build linux

package testutil

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestThrowawayThreadsSpareTheMainThread is the regression test for a wedged main
// thread: a goroutine exiting locked to the main thread leaves it parked in the
// throwaway namespace, and /proc/self/ns/net (the main thread's) then names a
// namespace nothing else runs in. Only throwaway namespaces are created here.
func TestThrowawayThreadsSpareTheMainThread(t *testing.T) {
	Require(t, CapRoot, CapNetNS)
	for range 200 {
		if err := onThrowawayThread(func() error { return unix.Unshare(unix.CLONE_NEWNET) }); err != nil {
			t.Fatal(err)
		}
	}
	self, _ := os.Readlink("/proc/self/ns/net")
	thread, _ := os.Readlink(ownNetNS)
	if self != thread {
		t.Errorf("main thread left in another namespace: /proc/self/ns/net = %s, thread-self = %s", self, thread)
	}
}
