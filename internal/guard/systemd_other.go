//go:build !linux

package guard

import (
	"context"
	"errors"
	"time"
)

// ErrNoSystemd reports that there is no systemd on this platform.
var ErrNoSystemd = errors.New("no systemd on this platform")

// SystemdBooted is false off Linux.
func SystemdBooted() bool { return false }

// ArmTimer is not available off Linux; the guard process is the watcher.
func ArmTimer(context.Context, string, string, string, time.Duration) error { return ErrNoSystemd }
