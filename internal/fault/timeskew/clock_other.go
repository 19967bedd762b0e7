//go:build !linux

package timeskew

import (
	"errors"
	"time"
)

// kernelClock is unsupported outside Linux.
type kernelClock struct{}

func (kernelClock) read() (sample, error) { return sample{}, errors.ErrUnsupported }

func (kernelClock) step(time.Duration) error { return errors.ErrUnsupported }
