//go:build windows || plan9

package audit

import (
	"context"
	"errors"
	"runtime"
)

// SyslogPrefix starts every checkpoint message a SyslogSink sends.
const SyslogPrefix = "bulwark-audit-checkpoint "

// SyslogSink is not available on this platform (Go's log/syslog is not):
// use the file sink.
type SyslogSink struct{}

// NewSyslogSink returns an error on this platform.
func NewSyslogSink(network, addr string) (*SyslogSink, error) {
	return nil, errors.New("syslog is not available on " + runtime.GOOS + "; export checkpoints with the file sink")
}

// Export implements Sink; it is never reached.
func (s *SyslogSink) Export(context.Context, Checkpoint) error {
	return errors.New("syslog sink not open")
}

// Close implements io.Closer; it is never reached.
func (s *SyslogSink) Close() error { return errors.New("syslog sink not open") }
