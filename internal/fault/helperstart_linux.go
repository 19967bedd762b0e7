package fault

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// StartHelper starts `exe args…` (args begin with "helper", NAME) as a
// fault's helper: in a session of its own, so no terminal or process-group
// signal reaches it; with stdin on /dev/null and its output appended to
// dir/helper.log; and not tied to the caller's life (no Pdeathsig) — it ends
// at its deadline or when Recover stops it. The child is reaped in the
// background so a long-lived caller keeps no zombie. It returns the helper's
// pid and start time, or an error quoting the log's tail if it exited at once.
func (h *Host) StartHelper(exe string, args []string, dir string) (Proc, error) {
	name := "helper"
	if len(args) > 1 {
		name = args[1]
	}
	logf, err := os.OpenFile(filepath.Join(dir, "helper.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return Proc{}, fmt.Errorf("open helper log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(exe, args...)
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return Proc{}, fmt.Errorf("start %s helper: %w", name, err)
	}
	go func() { _ = cmd.Wait() }()
	p, _, err := h.Identify(cmd.Process.Pid)
	if err != nil {
		return p, fmt.Errorf("start %s helper: it exited at once: %s", name, LogTail(dir))
	}
	return p, nil
}

// LogTail returns the last lines of dir/helper.log, for error messages.
func LogTail(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "helper.log"))
	if err != nil {
		return "no output"
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 400 {
		s = "…" + s[len(s)-400:]
	}
	if s == "" {
		return "no output"
	}
	return s
}
