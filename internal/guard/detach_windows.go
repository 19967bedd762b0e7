package guard

import (
	"syscall"

	"golang.org/x/sys/windows"
)

// detached starts the guard in a new process group without a console.
func detached() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP | windows.DETACHED_PROCESS}
}
