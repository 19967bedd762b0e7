//go:build !linux

package vmtest

import (
	"io"
	"os/exec"
)

func setPdeathsig(*exec.Cmd) {}

// startAndWait starts cmd, closes closeAfterStart and waits for cmd.
func startAndWait(cmd *exec.Cmd, closeAfterStart ...io.Closer) error {
	err := cmd.Start()
	for _, c := range closeAfterStart {
		c.Close()
	}
	if err == nil {
		err = cmd.Wait()
	}
	return err
}
