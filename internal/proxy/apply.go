package proxy

import (
	"time"
)

// applicable returns the faults whose dice and matchers select unit u, and
// the exchange plan u belongs to (nil outside HTTP).
func (r *relayer) applicable(u Unit, set *faultSet) ([]*Fault, *plan) {
	var pl *plan
	if u.Exchange != 0 {
		pl = r.c.exchange(u.Exchange, u.Request)
	}
	if pl == nil && u.Start {
		clear(r.msgRolls)
	}
	var req *Request
	if pl != nil {
		req = pl.req
	}
	var out []*Fault
	for _, f := range set.list {
		if f.Type == TLS || f.Type == Down && f.Per == PerConnection {
			continue
		}
		var ok bool
		switch f.Per {
		case PerConnection:
			ok = r.c.roll(f)
		case PerChunk:
			ok = hit(r.rng, f.Percent)
		case PerRequest:
			if pl != nil {
				ok = r.c.rollPlan(pl, f)
			} else if v, seen := r.msgRolls[f.ID]; seen {
				ok = v
			} else {
				ok = hit(r.rng, f.Percent)
				r.msgRolls[f.ID] = ok
			}
		}
		if ok && f.Match.matches(req) {
			out = append(out, f)
		}
	}
	return out, pl
}

// handle applies the faults to one unit and forwards what is left of it.
func (r *relayer) handle(u Unit) error {
	if u.Synthetic {
		return r.write(u.Data, false)
	}
	set, changed := r.c.p.snapshot()
	faults, pl := r.applicable(u, set)
	if r.dir == Downstream && pl != nil && u.End {
		defer r.c.endExchange(u.Exchange)
	}
	// Step 1: faults that end the connection or answer the request.
	for _, f := range faults {
		if f.Type == Down {
			r.c.reset()
			return errCut
		}
	}
	if handled, err := r.answer(u, faults, pl); handled || err != nil || u.Drop {
		if err != nil {
			return err
		}
		return r.sendReply(u)
	}
	// Step 2: directional faults, in the order hold, cut, delay, write.
	data := u.Data
	var slow []*Fault
	for _, f := range faults {
		if !f.directional(r.dir) {
			continue
		}
		switch f.Type {
		case Hang:
			if pl != nil && pl.req != nil && f.Per != PerConnection && r.dir == Downstream {
				continue // answered or held per exchange in answer
			}
			if held, err := r.hang(f, u, data, changed); held || err != nil {
				if err != nil {
					return err
				}
				return r.sendReply(u)
			}
		case Truncate:
			return r.truncate(f, u, data)
		case Error:
			if pl == nil { // raw bytes: corrupt or truncate
				if f.Corrupt == "truncate" {
					return r.truncate(f, u, data)
				}
				corrupt(r.rng, data)
			}
		case Slow:
			slow = append(slow, f)
		}
	}
	if pl != nil && r.dir == Downstream && r.c.isHung(pl) {
		return r.holdExchange(u, pl, changed)
	}
	if len(r.held) > 0 && !u.Heartbeat {
		r.hold(data)
		return r.sendReply(u)
	}
	if err := r.slow(slow, data, u.Partial); err != nil {
		return err
	}
	r.countPassed(faults, u, len(data))
	return r.sendReply(u)
}

// answer applies Error and per-request Hang faults to an HTTP request head:
// the framer answers (or never answers) the exchange itself. handled means
// the unit was dealt with (dropped, or forwarded with the framer's extra).
func (r *relayer) answer(u Unit, faults []*Fault, pl *plan) (handled bool, err error) {
	if r.dir != Upstream || u.Request == nil || pl == nil {
		return false, nil
	}
	ans, ok := r.fr.(answerer)
	if af, auto := r.fr.(*autoFramer); !ok || auto && !af.answerable() {
		return false, nil
	}
	for _, f := range faults {
		var drop bool
		var extra []byte
		switch {
		case f.Type == Error:
			drop, extra = ans.answer(u.Exchange, u.Request, f)
		case f.Type == Hang && f.Per != PerConnection && f.Direction == Downstream:
			if ans.answersHang() {
				drop, extra = ans.answer(u.Exchange, u.Request, nil)
			} else {
				r.c.mu.Lock()
				pl.hung = true
				r.c.mu.Unlock()
				continue
			}
		default:
			continue
		}
		r.c.poke(Downstream) // let the response framer emit the answer now
		if drop {
			return true, nil
		}
		if err := r.write(u.Data, false); err != nil {
			return true, err
		}
		return true, r.write(extra, false)
	}
	return false, nil
}

// sendReply writes the unit's Reply back towards its source.
func (r *relayer) sendReply(u Unit) error {
	if len(u.Reply) == 0 {
		return nil
	}
	return r.reply(u.Reply)
}

// slow applies delay, jitter, slicing and the rate cap, then writes.
func (r *relayer) slow(faults []*Fault, data []byte, partial bool) error {
	var delay time.Duration
	var rate int64
	slice, variation := 0, 0
	for _, f := range faults {
		d := f.Delay
		if f.Jitter > 0 {
			d += time.Duration(r.rng.Int64N(int64(2*f.Jitter)+1)) - f.Jitter
		}
		delay = max(delay, d)
		if f.Rate > 0 && (rate == 0 || f.Rate < rate) {
			rate = f.Rate
		}
		if f.SliceSize > 0 {
			slice, variation = f.SliceSize, f.SliceVariation
		}
	}
	r.setRate(rate)
	if slice > 0 {
		return r.sliced(data, slice, variation, delay, partial)
	}
	if delay > 0 {
		// Units cut from one read share one target, so a burst is delayed
		// once, measured from when it arrived.
		if r.tr.reads != r.burst || r.target.IsZero() {
			r.burst, r.target = r.tr.reads, r.tr.at.Add(delay)
		}
		if err := r.c.sleep(time.Until(r.target)); err != nil {
			return err
		}
	}
	return r.write(data, partial)
}

// sliced writes data in slices of about size bytes, delay apart.
func (r *relayer) sliced(data []byte, size, variation int, delay time.Duration, partial bool) error {
	for len(data) > 0 {
		n := size
		if variation > 0 {
			n += r.rng.IntN(2*variation+1) - variation
		}
		n = min(max(n, 1), len(data))
		if err := r.c.sleep(delay); err != nil {
			return err
		}
		if err := r.write(data[:n], partial || n < len(data)); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

func (r *relayer) setRate(rate int64) {
	switch {
	case rate == 0:
		r.bucket = nil
	case r.bucket == nil || r.bucket.rate != rate:
		r.bucket = newBucket(rate)
	}
}

// truncate lets part of the data through and cuts the connection.
func (r *relayer) truncate(f *Fault, u Unit, data []byte) error {
	n := int64(len(data)) / 2
	if f.Per == PerConnection {
		cnt := r.count(f)
		if cnt.bytes+int64(len(data)) <= f.Bytes {
			cnt.bytes += int64(len(data))
			if err := r.write(data, u.Partial); err != nil {
				return err
			}
			return r.sendReply(u)
		}
		n = f.Bytes - cnt.bytes
	} else if f.Bytes > 0 {
		n = min(f.Bytes, int64(len(data)))
	}
	if err := r.write(data[:n], false); err != nil {
		return err
	}
	if f.Reset {
		r.c.reset()
	} else {
		r.c.close()
	}
	return errCut
}

// corrupt flips the bits of one random byte of data.
func corrupt(rng interface{ IntN(int) int }, data []byte) {
	if len(data) > 0 {
		data[rng.IntN(len(data))] ^= 0xff
	}
}

func (r *relayer) count(f *Fault) *count {
	c := r.counts[f.ID]
	if c == nil {
		c = &count{}
		r.counts[f.ID] = c
	}
	return c
}

// countPassed adds a forwarded unit to the counters of stall thresholds.
func (r *relayer) countPassed(faults []*Fault, u Unit, n int) {
	for _, f := range faults {
		if f.Type == Hang && f.directional(r.dir) && !u.Heartbeat {
			c := r.count(f)
			c.bytes += int64(n)
			if u.Start {
				c.frames++
			}
		}
	}
}
