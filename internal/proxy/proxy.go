package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Errors returned by the fault-set methods and Serve.
var (
	// ErrNotFound is returned by RemoveFault for an unknown ID.
	ErrNotFound = errors.New("fault not found")
	// ErrExists is returned by AddFault for an ID already in use.
	ErrExists = errors.New("fault already exists")
	// ErrClosed is returned by Serve and Open after Close or Shutdown.
	ErrClosed = errors.New("proxy closed")
)

// Proxy relays TCP connections to their upstreams and applies the active
// faults. Create it with New; it is safe for concurrent use.
type Proxy struct {
	cfg Config
	log *slog.Logger

	ctx    context.Context // the proxy's own background context
	cancel context.CancelFunc

	set     atomic.Pointer[faultSet]
	changed atomic.Pointer[chan struct{}] // closed and replaced on every change

	mu        sync.Mutex // guards the fields below and fault-set writes
	conns     map[*conn]struct{}
	listeners map[net.Listener]struct{}
	rng       *rand.Rand
	nextID    uint64
	closed    bool

	wg sync.WaitGroup // serve loops and connection goroutines
}

// faultSet is an immutable snapshot of the active faults.
type faultSet struct {
	list  []*Fault
	certs map[string]*certPair // TLS faults' certificates by fault ID
}

// New returns a Proxy for cfg; it listens on nothing until Open or Serve.
func New(cfg Config) (*Proxy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new proxy: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		cfg: cfg, log: cfg.Logger, ctx: ctx, cancel: cancel,
		conns:     map[*conn]struct{}{},
		listeners: map[net.Listener]struct{}{},
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	p.set.Store(&faultSet{})
	ch := make(chan struct{})
	p.changed.Store(&ch)
	return p, nil
}

// Open listens on addr ("127.0.0.1:0" for a free port) and serves it in a
// goroutine the proxy owns until Close or Shutdown. Listen errors are
// returned synchronously.
func (p *Proxy) Open(ctx context.Context, addr string) (net.Addr, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("open proxy: %w", err)
	}
	if err := p.track(ln); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("open proxy: %w", err)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_ = p.serve(ln)
	}()
	return ln.Addr(), nil
}

// Serve accepts connections on ln until ctx is done, ln fails, or the proxy
// is closed. It closes ln before returning, and returns ErrClosed after a
// Close or Shutdown and ctx.Err() after ctx is done.
func (p *Proxy) Serve(ctx context.Context, ln net.Listener) error {
	if err := p.track(ln); err != nil {
		_ = ln.Close()
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	err := p.serve(ln)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (p *Proxy) track(ln net.Listener) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	p.listeners[ln] = struct{}{}
	return nil
}

// serve is the accept loop. It never dials or blocks on a connection: each
// accepted connection gets its own goroutine at once.
func (p *Proxy) serve(ln net.Listener) error {
	defer func() {
		p.mu.Lock()
		delete(p.listeners, ln)
		p.mu.Unlock()
		_ = ln.Close()
	}()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if p.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return ErrClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				p.log.Warn("accept", "err", err, "retry", backoff)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		backoff = 0
		c := p.newConn(nc)
		if c == nil {
			continue
		}
		go c.run()
	}
}

// isTemporary reports accept errors worth retrying (EMFILE, ECONNABORTED).
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// newConn registers an accepted connection, or closes it when the proxy is
// closing or full.
func (p *Proxy) newConn(nc net.Conn) *conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.cfg.MaxConns > 0 && len(p.conns) >= p.cfg.MaxConns {
		resetConn(nc)
		return nil
	}
	p.nextID++
	c := newConn(p, nc, p.nextID, p.rng.Uint64())
	p.conns[c] = struct{}{}
	p.wg.Add(1)
	return c
}

func (p *Proxy) forget(c *conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	p.wg.Done()
}

// Conns returns the number of live proxied connections.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close stops accepting, closes every connection at once and waits for all
// the proxy's goroutines. It is idempotent.
func (p *Proxy) Close() error {
	p.stopAccepting()
	p.cancel()
	p.mu.Lock()
	for c := range p.conns {
		c.close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}

// Shutdown stops accepting and lets live connections drain until they end
// or ctx is done, then closes what is left (as Close). It returns ctx.Err()
// when connections had to be cut.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.stopAccepting()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for p.Conns() > 0 {
		select {
		case <-ctx.Done():
			_ = p.Close()
			return ctx.Err()
		case <-t.C:
		}
	}
	return p.Close()
}

func (p *Proxy) stopAccepting() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for ln := range p.listeners {
		_ = ln.Close()
	}
}

// snapshot returns the active faults and the channel closed on the next
// change; take both before evaluating so no change is missed.
func (p *Proxy) snapshot() (*faultSet, <-chan struct{}) {
	ch := *p.changed.Load()
	return p.set.Load(), ch
}

// resetConn closes nc with an RST rather than a FIN.
func resetConn(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = nc.Close()
}

// closeWrite half-closes nc when it can, and closes it otherwise.
func closeWrite(nc net.Conn) error {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nc.Close()
}

// isTimeout reports a read-deadline poke.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

var _ io.Closer = (*Proxy)(nil)
