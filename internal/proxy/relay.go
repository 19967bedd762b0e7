package proxy

import (
	"bufio"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"time"
)

var (
	// errSwitch ends one relay mode so the loop enters the other.
	errSwitch = errors.New("switch relay mode")
	// errTimedOut ends a hang with a Timeout.
	errTimedOut = errors.New("hang timed out")
	// errCut ends a connection a fault closed on purpose.
	errCut = errors.New("connection cut by fault")
)

// relayer moves one direction of a connection.
type relayer struct {
	c        *conn
	dir      Direction
	src, dst net.Conn
	rng      *rand.Rand

	tr     *timedReader
	r      *bufio.Reader // allocated on the first entry to the fault path
	fr     Framer
	fast   bool // bytes moved on the fast path since fr was chosen
	locked bool // holding the destination write lock across Partial units

	held      [][]byte // data held by a heartbeat-passing hang, in order
	heldBytes int
	counts    map[string]*count // per fault: what passed since it applied
	msgRolls  map[string]bool   // per-message dice for non-HTTP framing
	bucket    *bucket
	burst     uint64    // read count the delay target belongs to
	target    time.Time // when the current burst may be written
}

// count is what passed in a direction since a fault first applied to it.
type count struct{ bytes, frames int64 }

// relay moves direction d until its source ends, then half-closes the
// destination. A nil return is a clean end of stream.
func (c *conn) relay(d Direction) error {
	src, dst := c.ends(d)
	seed := c.id<<1 | uint64(dirIndex(d))
	r := &relayer{c: c, dir: d, src: src, dst: dst, rng: rand.New(rand.NewPCG(c.p.cfg.Seed^seed, seed)),
		counts: map[string]*count{}, msgRolls: map[string]bool{}}
	err := r.loop()
	r.unlock()
	switch {
	case err == nil || errors.Is(err, io.EOF):
		_ = closeWrite(dst)
		return nil
	case errors.Is(err, errCut):
		return err
	default:
		return err
	}
}

func (r *relayer) loop() error {
	for {
		var err error
		if r.needsFaultPath() {
			err = r.framed()
		} else {
			err = r.copyFast()
		}
		if !errors.Is(err, errSwitch) {
			return err
		}
	}
}

// needsFaultPath reports whether any active fault can act on this
// direction, or data is held.
func (r *relayer) needsFaultPath() bool {
	if len(r.held) > 0 {
		return true
	}
	set, _ := r.c.p.snapshot()
	for _, f := range set.list {
		switch {
		case f.Type == TLS, f.Type == Down && f.Per == PerConnection:
			continue
		case f.Per == PerConnection && !r.c.roll(f):
			continue
		}
		return true
	}
	return false
}

// copyFast relays with io.Copy (splice between TCP sockets on Linux) until
// the source ends or a poke finds a fault to apply.
func (r *relayer) copyFast() error {
	if r.r != nil && r.r.Buffered() > 0 {
		b, _ := r.r.Peek(r.r.Buffered())
		if err := r.write(b, false); err != nil {
			return err
		}
		_, _ = r.r.Discard(len(b))
	}
	for {
		n, err := r.copy()
		r.c.moved.Add(n)
		if n > 0 {
			r.fast = true
		}
		switch {
		case err == nil:
			return io.EOF
		case !isTimeout(err):
			return err
		}
		_ = r.src.SetReadDeadline(time.Time{})
		if r.needsFaultPath() {
			return errSwitch
		}
	}
}

// copy is the fast path proper: copyTCP between two TCP sockets, io.Copy
// otherwise (TLS).
func (r *relayer) copy() (int64, error) {
	src, ok1 := r.src.(*net.TCPConn)
	dst, ok2 := r.dst.(*net.TCPConn)
	if ok1 && ok2 {
		return copyTCP(dst, src)
	}
	return io.Copy(r.dst, r.src)
}

// framed relays unit by unit through the framer until the source ends, or
// no fault applies any more at a unit boundary.
func (r *relayer) framed() error {
	if r.r == nil {
		r.tr = &timedReader{r: r.src}
		r.r = bufio.NewReaderSize(r.tr, r.c.p.cfg.BufferSize)
	}
	if r.fr == nil || r.fast {
		r.fr = r.c.chooseFramers()[dirIndex(r.dir)]
		if r.fast {
			r.fr = rawFramer{}
		}
		r.fast = false
	}
	for {
		if !r.locked && len(r.held) == 0 && !r.needsFaultPath() {
			return errSwitch
		}
		u, err := r.fr.Next(r.r)
		if err != nil {
			if isTimeout(err) {
				_ = r.src.SetReadDeadline(time.Time{})
				if err := r.release(); err != nil {
					return err
				}
				continue
			}
			return r.finish(err)
		}
		if err := r.handle(u); err != nil {
			return err
		}
	}
}

// finish forwards what a framer could not frame before the end of the
// stream, waits for any hang to lift, and returns err.
func (r *relayer) finish(err error) error {
	if r.r.Buffered() > 0 {
		b, _ := r.r.Peek(r.r.Buffered())
		if werr := r.handle(Unit{Data: b, Start: true, End: true}); werr != nil {
			return werr
		}
		_, _ = r.r.Discard(len(b))
	}
	for len(r.held) > 0 {
		_, changed := r.c.p.snapshot()
		if werr := r.release(); werr != nil || len(r.held) == 0 {
			if werr != nil {
				return werr
			}
			break
		}
		if werr := r.c.wait(changed, 0); werr != nil {
			return werr
		}
	}
	return err
}

// unlock releases a write lock kept across Partial units.
func (r *relayer) unlock() {
	if r.locked {
		r.locked = false
		r.c.wmu[dirIndex(r.dir)].Unlock()
	}
}

// write sends b to the destination, keeping the write lock while a frame
// continues (partial).
func (r *relayer) write(b []byte, partial bool) error {
	if !r.locked {
		r.c.wmu[dirIndex(r.dir)].Lock()
		r.locked = true
	}
	var err error
	if r.bucket != nil {
		err = r.bucket.write(r.c, r.dst, b)
	} else if len(b) > 0 {
		_, err = r.dst.Write(b)
	}
	if !partial {
		r.unlock()
	}
	return err
}

// reply writes b back towards this direction's source, between units of
// the other direction.
func (r *relayer) reply(b []byte) error {
	other := Upstream
	if r.dir == Upstream {
		other = Downstream
	}
	i := dirIndex(other)
	r.c.wmu[i].Lock()
	defer r.c.wmu[i].Unlock()
	_, err := r.src.Write(b)
	return err
}

// timedReader counts reads and remembers when the last one returned, so a
// delay is measured from arrival and not from when a unit is handled.
type timedReader struct {
	r     io.Reader
	reads uint64
	at    time.Time
}

func (t *timedReader) Read(b []byte) (int, error) {
	n, err := t.r.Read(b)
	if n > 0 {
		t.reads++
		t.at = time.Now()
	}
	return n, err
}
