package guard

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Start launches `exe guard --state-dir DIR` detached in its own session
// unless a guard already holds the directory. The child's output goes to
// DIR/guard.log. It does not wait for the child.
func Start(exe, stateDir string, env []string) error {
	if Running(stateDir) {
		return nil
	}
	logf, err := os.OpenFile(filepath.Join(stateDir, "guard.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open guard log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(exe, "guard", "--state-dir", stateDir)
	cmd.Stdout, cmd.Stderr, cmd.Dir = logf, logf, "/"
	cmd.Env = env
	cmd.SysProcAttr = detached()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start guard: %w", err)
	}
	return cmd.Process.Release()
}
