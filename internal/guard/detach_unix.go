//go:build !windows

package guard

import "syscall"

// detached puts the guard in a session of its own, so the terminal's hangup
// and the injecting command's process group never reach it.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
