package process

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

const (
	stopSignal = unix.SIGSTOP
	contSignal = unix.SIGCONT
)

// Available implements fault.Availability: the kind needs a readable proc
// file system to identify processes.
func (Hang) Available(ctx context.Context, h *fault.Host) error {
	if _, err := os.Stat(filepath.Join(h.ProcRoot, "self", "stat")); err != nil {
		return fmt.Errorf("read %s: %w", h.ProcRoot, err)
	}
	return nil
}
