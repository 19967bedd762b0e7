//go:build linux

package testutil

import (
	"os"
	"runtime"
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

// TestLockedThreadPanicsAndGoexits runs many times so that some runs land on the
// main thread and take the nested path: a panic or Goexit there must reach the
// caller too, not crash the process.
func TestLockedThreadPanicsAndGoexits(t *testing.T) {
	keep := func() (func() error, error) { return func() error { return nil }, nil }
	for range 500 {
		func() {
			defer func() {
				if p := recover(); p != "boom" {
					t.Fatalf("recovered %v, want boom", p)
				}
			}()
			_ = onLockedThread(keep, func() error { panic("boom") })
		}()
		exited := make(chan bool)
		go func() {
			defer func() { exited <- true }()
			_ = onLockedThread(keep, func() error { runtime.Goexit(); return nil })
			exited <- false // not reached when Goexit is repeated
		}()
		if !<-exited {
			t.Fatal("Goexit in fn was not repeated in the caller")
		}
	}
}
