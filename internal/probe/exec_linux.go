package probe

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// checkedCommand opens argv[0] once, checks the SHA-256 of the bytes read
// through that descriptor, and returns a command that executes the very same
// descriptor: it is passed to the child as fd 3 and run as /proc/self/fd/3,
// so replacing the path after the check changes nothing (no TOCTOU window).
// For a "#!" script the interpreter must be allow-listed as well; it is
// checked by path, just before the exec. cleanup closes the descriptor after
// the command has run.
func checkedCommand(ctx context.Context, list *AllowList, argv []string) (*exec.Cmd, func(), error) {
	f, err := os.Open(argv[0])
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", argv[0], err)
	}
	head, err := list.checkFile(argv[0], f)
	if err == nil {
		if interp := interpreter(head); interp != "" {
			err = list.checkPath(interp)
			if err != nil {
				err = fmt.Errorf("interpreter of %s: %w", argv[0], err)
			}
		}
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, "/proc/self/fd/3", argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.ExtraFiles = []*os.File{f}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Kill the whole process group the command leads.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	return cmd, func() { f.Close() }, nil
}
