package proxy

import (
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// conn is one proxied connection. Its goroutine (run) owns the relay of the
// client→upstream direction and the goroutine relaying the other one.
type conn struct {
	p      *Proxy
	id     uint64
	raw    net.Conn // the accepted socket
	client net.Conn // raw, or the TLS server side of a TLS fault
	up     net.Conn // the upstream socket, nil until dialled

	mu      sync.Mutex // guards the fields below
	rng     *rand.Rand
	rolls   map[string]bool  // per-connection dice by fault ID
	plans   map[uint64]*plan // per-exchange dice by exchange ID
	framers [2]Framer        // chosen on the first entry to the fault path
	chosen  bool
	dialled bool

	moved atomic.Int64  // bytes relayed on the fast path
	wmu   [2]sync.Mutex // serialises writes towards upstream [0] and client [1]

	done      chan struct{}
	closeOnce sync.Once
}

// plan is the dice rolled for one HTTP exchange, shared by both directions.
type plan struct {
	req   *Request
	rolls map[string]bool
	hung  bool // responses are held (HTTP/1.1 hang per request)
}

func newConn(p *Proxy, nc net.Conn, id, seed uint64) *conn {
	return &conn{
		p: p, id: id, raw: nc, client: nc,
		rng:   rand.New(rand.NewPCG(seed, id)),
		rolls: map[string]bool{},
		plans: map[uint64]*plan{},
		done:  make(chan struct{}),
	}
}

// dirIndex maps a direction to its destination's write lock.
func dirIndex(d Direction) int {
	if d == Upstream {
		return 0
	}
	return 1
}

// run handles the connection from accept to close.
func (c *conn) run() {
	defer c.p.forget(c)
	defer c.close()
	// Step 1: connection-level faults decided at accept.
	ok, err := c.admit()
	if !ok {
		if err != nil {
			c.p.log.Debug("admit connection", "conn", c.id, "err", err)
		}
		return
	}
	// Step 2: resolve and dial upstream, in this goroutine, bounded.
	if err := c.dial(); err != nil {
		c.p.log.Info("dial upstream", "conn", c.id, "err", err)
		return
	}
	// Step 3: relay both ways; this goroutine owns the downstream relay.
	downDone := make(chan error, 1)
	go func() { downDone <- c.relay(Downstream) }()
	upErr := c.relay(Upstream)
	if upErr != nil {
		c.close() // unblock the other direction
	}
	<-downDone
}

// admit applies Down (refuse with RST), Hang-at-accept (hold without
// dialling until the fault goes) and TLS (handshake with a bad
// certificate). It reports whether the connection goes on.
func (c *conn) admit() (bool, error) {
	for {
		set, changed := c.p.snapshot()
		var hang *Fault
		var tlsFault *Fault
		for _, f := range set.list {
			if f.Per != PerConnection || !c.roll(f) {
				continue
			}
			switch {
			case f.Type == Down:
				resetConn(c.raw)
				return false, nil
			case f.Type == Hang && f.AfterBytes == 0 && f.AfterFrames == 0 && !f.Heartbeats && hang == nil:
				hang = f
			case f.Type == TLS && tlsFault == nil:
				tlsFault = f
			}
		}
		if hang != nil {
			if err := c.wait(changed, hang.Timeout); err != nil {
				if hang.Reset {
					resetConn(c.raw)
				}
				return false, err
			}
			continue
		}
		if tlsFault != nil {
			return true, c.handshake(tlsFault, set.certs[tlsFault.ID])
		}
		return true, nil
	}
}

// handshake terminates TLS towards the client with the fault's certificate.
// A client that accepts it anyway is relayed in clear to upstream, which
// the proxy reaches over TLS without verification.
func (c *conn) handshake(f *Fault, cp *certPair) error {
	if cp == nil {
		return fmt.Errorf("tls fault %q has no certificate", f.ID)
	}
	tc := tls.Server(c.raw, &tls.Config{Certificates: []tls.Certificate{cp.cert}, NextProtos: []string{"h2", "http/1.1"}})
	_ = c.raw.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("tls handshake: %w", err)
	}
	_ = c.raw.SetDeadline(time.Time{})
	c.mu.Lock()
	c.client = tc
	c.mu.Unlock()
	return nil
}

// dial resolves and connects the upstream with the configured timeout and
// socket mark.
func (c *conn) dial() error {
	addr, err := c.p.cfg.Resolve(c.raw)
	if err != nil {
		return fmt.Errorf("resolve upstream: %w", err)
	}
	d := net.Dialer{Timeout: c.p.cfg.DialTimeout, Control: markControl(c.p.cfg.Mark)}
	up, err := d.DialContext(c.p.ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	if tc, ok := c.client.(*tls.Conn); ok {
		host, _, _ := net.SplitHostPort(addr)
		tu := tls.Client(up, &tls.Config{InsecureSkipVerify: true, ServerName: host, NextProtos: []string{tc.ConnectionState().NegotiatedProtocol}}) //nolint:gosec // the client already accepted a bad certificate on purpose
		up = tu
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		_ = up.Close()
		return ErrClosed
	default:
	}
	c.up, c.dialled = up, true
	return nil
}

// ends returns the socket a direction reads from and the one it writes to.
func (c *conn) ends(d Direction) (src, dst net.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d == Upstream {
		return c.client, c.up
	}
	return c.up, c.client
}

// roll returns the per-connection dice for f, rolling once.
func (c *conn) roll(f *Fault) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.rolls[f.ID]
	if !ok {
		v = hit(c.rng, f.Percent)
		c.rolls[f.ID] = v
	}
	return v
}

// exchange returns the plan of exchange ex, creating it for a request head.
func (c *conn) exchange(ex uint64, req *Request) *plan {
	c.mu.Lock()
	defer c.mu.Unlock()
	pl := c.plans[ex]
	if pl == nil && req != nil {
		if len(c.plans) >= 4096 {
			clear(c.plans)
		}
		pl = &plan{req: req, rolls: map[string]bool{}}
		c.plans[ex] = pl
	}
	return pl
}

// rollPlan returns the per-request dice for f on pl, rolling once.
func (c *conn) rollPlan(pl *plan, f *Fault) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := pl.rolls[f.ID]
	if !ok {
		v = hit(c.rng, f.Percent)
		pl.rolls[f.ID] = v
	}
	return v
}

func (c *conn) endExchange(ex uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.plans, ex)
}

// chooseFramers returns the framer pair: the configured framing for a
// connection that has carried no bytes yet, Raw otherwise.
func (c *conn) chooseFramers() [2]Framer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.chosen {
		c.chosen = true
		fr := c.p.cfg.Framing
		if c.moved.Load() > 0 {
			fr = Raw{}
		}
		up, down := fr.NewFramers()
		c.framers = [2]Framer{up, down}
	}
	return c.framers
}

// changed is called with p.mu held after every fault-set change.
func (c *conn) changed(set *faultSet) {
	for _, f := range set.list {
		if f.Type == Down && f.ResetExisting && c.roll(f) {
			c.reset()
			return
		}
	}
	c.poke(Upstream)
	c.poke(Downstream)
}

// poke interrupts the read of direction d so its relay re-evaluates.
func (c *conn) poke(d Direction) {
	src, _ := c.ends(d)
	if src != nil {
		_ = src.SetReadDeadline(time.Now())
	}
}

// wait blocks until the fault set changes, the connection closes, or
// timeout (when positive) passes; it returns ErrClosed or errTimedOut in
// the latter cases.
func (c *conn) wait(changed <-chan struct{}, timeout time.Duration) error {
	var tc <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-changed:
		return nil
	case <-c.done:
		return ErrClosed
	case <-tc:
		return errTimedOut
	}
}

// sleep waits for d unless the connection closes first.
func (c *conn) sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-c.done:
		return ErrClosed
	}
}

// reset closes both sides with RST.
func (c *conn) reset() {
	c.mu.Lock()
	up := c.up
	c.mu.Unlock()
	resetConn(c.raw)
	if up != nil {
		if tu, ok := up.(*tls.Conn); ok {
			up = tu.NetConn()
		}
		resetConn(up)
	}
	c.close()
}

// close closes both sides; idempotent.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.mu.Lock()
		up, client := c.up, c.client
		c.mu.Unlock()
		_ = client.Close()
		_ = c.raw.Close()
		if up != nil {
			_ = up.Close()
		}
	})
}

// hit rolls a percentage.
func hit(r *rand.Rand, percent float64) bool {
	switch {
	case percent >= 100:
		return true
	case percent <= 0:
		return false
	default:
		return r.Float64()*100 < percent
	}
}
