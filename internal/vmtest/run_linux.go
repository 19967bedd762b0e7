//go:build linux

package vmtest

import (
	"io"
	"os/exec"
	"runtime"
	"syscall"
)

// setPdeathsig makes the kernel SIGKILL qemu if the test process dies.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// startAndWait starts cmd and waits for it on one locked OS thread (Pdeathsig
// fires when the forking thread exits, and the runtime may retire threads),
// closing closeAfterStart once the child holds its copies.
func startAndWait(cmd *exec.Cmd, closeAfterStart ...io.Closer) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		for _, c := range closeAfterStart {
			c.Close()
		}
		if err == nil {
			err = cmd.Wait()
		}
		errc <- err
	}()
	return <-errc
}
