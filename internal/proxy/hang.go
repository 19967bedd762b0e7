package proxy

// hang applies a Hang fault to a unit. It reports held when the unit (or
// its tail) was held; data before a stall threshold is written first.
// Without Heartbeats the relay stops here until the fault set changes, then
// handles the rest of the unit afresh; with Heartbeats, heartbeat units keep
// flowing and the rest is queued (up to Config.MaxHeld, then reading stops).
func (r *relayer) hang(f *Fault, u Unit, data []byte, changed <-chan struct{}) (held bool, err error) {
	if f.Heartbeats && u.Heartbeat {
		return false, nil
	}
	cnt := r.count(f)
	allowed, stalled := int64(len(data)), false
	switch {
	case f.AfterBytes == 0 && f.AfterFrames == 0:
		allowed, stalled = 0, true
	case f.AfterFrames > 0 && cnt.frames >= f.AfterFrames && u.Start:
		allowed, stalled = 0, true
	case f.AfterBytes > 0 && cnt.bytes+allowed > f.AfterBytes:
		allowed, stalled = max(f.AfterBytes-cnt.bytes, 0), true
	}
	if !stalled {
		return false, nil
	}
	if allowed > 0 {
		cnt.bytes += allowed
		if err := r.write(data[:allowed], false); err != nil {
			return true, err
		}
	}
	rest := data[allowed:]
	if f.Heartbeats {
		r.hold(rest)
		return true, r.waitRoom(changed)
	}
	if err := r.c.wait(changed, f.Timeout); err != nil {
		return true, r.cut(f, err)
	}
	u.Data, u.Start = rest, u.Start && allowed == 0
	return true, r.handle(u)
}

// cut ends a hang that timed out (or a closed connection).
func (r *relayer) cut(f *Fault, err error) error {
	if err == errTimedOut {
		if f.Reset {
			r.c.reset()
		} else {
			r.c.close()
		}
		return errCut
	}
	return err
}

// hold queues a copy of b behind data already held.
func (r *relayer) hold(b []byte) {
	if len(b) == 0 {
		return
	}
	r.held = append(r.held, append([]byte(nil), b...))
	r.heldBytes += len(b)
}

// waitRoom stops reading while the held data is at its bound.
func (r *relayer) waitRoom(changed <-chan struct{}) error {
	for r.heldBytes >= r.c.p.cfg.MaxHeld && len(r.held) > 0 {
		if err := r.c.wait(changed, 0); err != nil {
			return err
		}
		_, changed = r.c.p.snapshot()
		if err := r.release(); err != nil {
			return err
		}
	}
	return nil
}

// release flushes held data, in order, once no heartbeat-passing hang
// applies to this direction any more.
func (r *relayer) release() error {
	if len(r.held) == 0 {
		return nil
	}
	set, _ := r.c.p.snapshot()
	for _, f := range set.list {
		if f.Type == Hang && f.Heartbeats && f.directional(r.dir) && (f.Per != PerConnection || r.c.roll(f)) {
			return nil
		}
	}
	for len(r.held) > 0 {
		b := r.held[0]
		r.held, r.heldBytes = r.held[1:], r.heldBytes-len(b)
		if err := r.write(b, false); err != nil {
			return err
		}
	}
	return nil
}

// holdExchange holds a response of an HTTP/1.1 exchange a per-request hang
// selected, until no such hang applies, then handles the unit afresh.
func (r *relayer) holdExchange(u Unit, pl *plan, changed <-chan struct{}) error {
	for {
		f := r.c.exchangeHang(pl)
		if f == nil {
			r.c.mu.Lock()
			pl.hung = false
			r.c.mu.Unlock()
			return r.handle(u)
		}
		if err := r.c.wait(changed, f.Timeout); err != nil {
			return r.cut(f, err)
		}
		_, changed = r.c.p.snapshot()
	}
}

// exchangeHang returns the per-request hang still selecting pl, if any.
func (c *conn) exchangeHang(pl *plan) *Fault {
	set, _ := c.p.snapshot()
	for _, f := range set.list {
		if f.Type == Hang && f.Per != PerConnection && c.rollPlan(pl, f) && f.Match.matches(pl.req) {
			return f
		}
	}
	return nil
}

// isHung reports whether pl's responses are held.
func (c *conn) isHung(pl *plan) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return pl.hung
}
