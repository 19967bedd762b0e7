//go:build !windows && !plan9

package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/syslog"
)

// SyslogPrefix starts every checkpoint message a SyslogSink sends; the JSON
// of the checkpoint follows it.
const SyslogPrefix = "bulwark-audit-checkpoint "

// SyslogSink sends each checkpoint to syslog (facility authpriv, severity
// notice) as SyslogPrefix followed by its JSON.
type SyslogSink struct {
	w *syslog.Writer
}

// NewSyslogSink dials syslog: network and addr as for log/syslog.Dial
// ("unixgram" and a socket path, "udp"/"tcp" and host:port, or both empty
// for the local syslog daemon).
func NewSyslogSink(network, addr string) (*SyslogSink, error) {
	w, err := syslog.Dial(network, addr, syslog.LOG_AUTHPRIV|syslog.LOG_NOTICE, "bulwark")
	if err != nil {
		return nil, fmt.Errorf("dial syslog %s %s: %w", network, addr, err)
	}
	return &SyslogSink{w: w}, nil
}

// Export implements Sink.
func (s *SyslogSink) Export(_ context.Context, c Checkpoint) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("marshal checkpoint: %w", err)
	}
	if err := s.w.Notice(SyslogPrefix + string(b)); err != nil {
		return fmt.Errorf("send checkpoint to syslog: %w", err)
	}
	return nil
}

// Close closes the connection to syslog.
func (s *SyslogSink) Close() error {
	if s == nil || s.w == nil {
		return errors.New("syslog sink not open")
	}
	return s.w.Close()
}
