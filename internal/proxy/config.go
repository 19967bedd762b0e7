package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// Resolver returns the upstream address ("host:port") for an accepted
// client connection: Fixed in explicit mode, OriginalDestination in
// transparent mode.
type Resolver func(conn net.Conn) (upstream string, err error)

// Fixed returns a Resolver that always answers addr.
func Fixed(addr string) Resolver {
	return func(net.Conn) (string, error) { return addr, nil }
}

// OriginalDestination is the transparent-mode Resolver: the destination the
// client dialled before an nftables redirect sent it to the proxy.
func OriginalDestination(conn net.Conn) (string, error) {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return "", fmt.Errorf("resolve original destination: %T is not a TCP connection", conn)
	}
	ap, err := OriginalDst(tc)
	if err != nil {
		return "", err
	}
	return ap.String(), nil
}

// Config configures a Proxy. Start from DefaultConfig.
type Config struct {
	// Resolve picks each connection's upstream. Required.
	Resolve Resolver
	// Framing cuts connections into units on the fault path (default Auto).
	Framing Framing
	// DialTimeout bounds each upstream dial.
	DialTimeout time.Duration
	// Mark, when non-zero, is set as SO_MARK on upstream sockets (Linux) so
	// a transparent redirect can exclude the proxy's own traffic.
	Mark int
	// BufferSize is the read buffer of a framed direction; it bounds the
	// largest message head or frame handled as one unit.
	BufferSize int
	// MaxHeld bounds the bytes a hang holding non-heartbeat data buffers per
	// direction before it stops reading.
	MaxHeld int
	// MaxConns bounds concurrent connections; further ones are accepted and
	// closed at once. Zero means no bound.
	MaxConns int
	// Seed makes fault dice reproducible in tests; zero seeds randomly.
	Seed uint64
	// Logger receives connection-level errors (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now); used for TLS certificates.
	Now func() time.Time
}

// DefaultConfig returns the defaults, without a Resolver.
func DefaultConfig() Config {
	return Config{
		Framing:     Auto{},
		DialTimeout: 5 * time.Second,
		BufferSize:  32 << 10,
		MaxHeld:     1 << 20,
	}
}

// Validate reports every problem with c, joined.
func (c *Config) Validate() error {
	var errs []error
	if c.Resolve == nil {
		errs = append(errs, errors.New("resolve is nil"))
	}
	if c.Framing == nil {
		errs = append(errs, errors.New("framing is nil"))
	}
	if lp, ok := c.Framing.(LengthPrefixed); ok {
		errs = append(errs, lp.Validate())
	}
	if c.DialTimeout <= 0 {
		errs = append(errs, fmt.Errorf("dial timeout %v is not positive", c.DialTimeout))
	}
	if c.BufferSize < 16<<10+9 {
		errs = append(errs, fmt.Errorf("buffer size %d is below 16 KiB + 9 (an HTTP/2 frame)", c.BufferSize))
	}
	if c.MaxHeld < 0 || c.MaxConns < 0 {
		errs = append(errs, errors.New("max held and max conns must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("validate proxy config: %w", err)
	}
	return nil
}
