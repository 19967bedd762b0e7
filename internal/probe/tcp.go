package probe

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/bulwarkhq/bulwark"
)

func init() {
	Register(Kind{Name: "tcp", NewConfig: func() Config { return &TCPConfig{} }})
}

// TCPConfig is a tcp probe: a connect, closed at once.
type TCPConfig struct {
	// Address is host:port.
	Address string `json:"address" yaml:"address"`
	// Timeout bounds the connect; 0 means 2s.
	Timeout bulwark.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
}

// Validate implements Config.
func (c *TCPConfig) Validate() error {
	if c.Address == "" {
		return errors.New("address: required")
	}
	if _, port, err := net.SplitHostPort(c.Address); err != nil || port == "" {
		return fmt.Errorf("address: %q is not host:port", c.Address)
	}
	return nil
}

// Build implements Config.
func (c *TCPConfig) Build(name string, opts Options) (Probe, error) {
	return &tcpProbe{name: name, cfg: *c, opts: opts}, nil
}

type tcpProbe struct {
	name string
	cfg  TCPConfig
	opts Options
}

func (p *tcpProbe) Name() string { return p.name }

func (p *tcpProbe) Close() error { return nil }

func (p *tcpProbe) Check(ctx context.Context) Result {
	timeout := p.cfg.Timeout.Std()
	if timeout == 0 {
		timeout = defaultTimeout
	}
	return timed(ctx, p.opts, timeout, func(ctx context.Context) (*float64, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", p.cfg.Address)
		if err != nil {
			return nil, err
		}
		return nil, c.Close()
	})
}

var (
	_ Config = (*TCPConfig)(nil)
	_ Probe  = (*tcpProbe)(nil)
)
