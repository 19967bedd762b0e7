//go:build !linux

package fault

import (
	"errors"
	"fmt"
)

// StartHelper is not available on this platform.
func (h *Host) StartHelper(exe string, args []string, dir string) (Proc, error) {
	return Proc{}, fmt.Errorf("start helper: %w", errors.ErrUnsupported)
}

// LogTail returns nothing on this platform.
func LogTail(string) string { return "no output" }
