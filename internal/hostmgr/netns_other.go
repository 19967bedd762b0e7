//go:build !linux

package hostmgr

import (
	"errors"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

var errNetNSGone = errors.New("network namespace is gone")

func currentNetNS(*fault.Host) *fault.NetNSRef { return nil }

func inNetNS(_ *fault.Receipt, fn func() error) error { return fn() }
