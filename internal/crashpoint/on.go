//go:build failpoints

package crashpoint

import (
	"os"
	"syscall"

	gofail "go.etcd.io/gofail/runtime"
)

// Enabled reports whether this binary was built with crash points.
const Enabled = true

var points = map[string]*gofail.Failpoint{}

func init() {
	for _, name := range All {
		points[name] = gofail.NewFailpoint(name)
	}
}

// Hit kills the process with SIGKILL when the named failpoint is enabled
// (GOFAIL_FAILPOINTS="name=return(true)"): no deferred function runs, no file
// is closed, exactly as when an operator or the OOM killer ends bulwark.
func Hit(name string) {
	fp, ok := points[name]
	if !ok {
		panic("crashpoint: unknown point " + name)
	}
	if _, err := fp.Acquire(); err != nil {
		return
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}
