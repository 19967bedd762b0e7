package proxy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Unit is one piece of a direction's byte stream as a Framer cut it: a raw
// chunk, a whole length-prefixed or delimited frame (or a piece of one
// larger than the buffer), an HTTP head or body piece, an HTTP/2 frame.
type Unit struct {
	// Data are the bytes to forward. They alias the reader's buffer and are
	// valid only until the next call to Next.
	Data []byte
	// Start and End mark the first and last unit of a message (frame,
	// request, response). A unit that is a whole message has both.
	Start, End bool
	// Heartbeat marks keep-alive units (HTTP/2 PING, a length-prefixed or
	// delimited frame the framing's heartbeat predicate accepts).
	Heartbeat bool
	// Exchange identifies the HTTP exchange the unit belongs to: the
	// request's ordinal on an HTTP/1.1 connection, the stream ID on HTTP/2.
	// Zero for everything else.
	Exchange uint64
	// Request is set on the unit that completes an HTTP request head.
	Request *Request
	// Partial says more pieces of the same frame follow; nothing else may
	// be written in between.
	Partial bool
	// Drop tells the relay not to forward Data (an answered exchange).
	Drop bool
	// Synthetic marks a unit the framer made up (an injected answer); the
	// relay forwards it without applying faults.
	Synthetic bool
	// Reply, when set, is written back to the side the unit came from after
	// the unit is handled (for example an HTTP/2 WINDOW_UPDATE refund).
	Reply []byte
}

// Framer cuts one direction of a connection into units.
//
// Next reads the next unit from r. It must be resumable: when r returns an
// error (a read-deadline timeout in particular) Next returns it having
// consumed from r nothing it has not returned in an earlier unit, so the
// relay can call Next again after re-evaluating its faults. A Framer is used
// by one goroutine; the two framers of a connection may share state.
type Framer interface {
	Next(r *bufio.Reader) (Unit, error)
}

// Framing creates the framers for a connection's two directions.
// Implementations: Raw, LengthPrefixed, Delimited, HTTP1, HTTP2, Auto.
type Framing interface {
	// Name is a short identifier ("raw", "http1", …).
	Name() string
	// NewFramers returns the framer for client→upstream bytes (up) and for
	// upstream→client bytes (down). They may share state.
	NewFramers() (up, down Framer)
}

// answerer is implemented by the request framer of protocols the proxy can
// answer itself (HTTP/1.1, HTTP/2). answer makes the framers handle exchange
// ex locally: with resp the response sent to the client, with resp nil none
// ever is (hang). drop reports whether the rest of the request must not be
// forwarded; extra is written upstream right after the current unit.
// answersHang reports whether answer(…, nil) is supported; otherwise a
// per-request hang holds the response instead.
type answerer interface {
	answer(ex uint64, req *Request, resp *Fault) (drop bool, extra []byte)
	answersHang() bool
}

// errBufferFull is returned by framers whose message head does not fit the
// buffer; the relay falls back to raw framing.
var errBufferFull = errors.New("message head larger than buffer")

// Raw frames bytes as they arrive: each unit is what one read returned.
type Raw struct{}

// Name implements Framing.
func (Raw) Name() string { return "raw" }

// NewFramers implements Framing.
func (Raw) NewFramers() (up, down Framer) { return rawFramer{}, rawFramer{} }

type rawFramer struct{}

func (rawFramer) Next(r *bufio.Reader) (Unit, error) { return nextRaw(r, -1) }

// nextRaw returns the buffered bytes (at most max when max >= 0), reading
// once if none are buffered.
func nextRaw(r *bufio.Reader, max int) (Unit, error) {
	if _, err := r.Peek(1); err != nil {
		return Unit{}, err
	}
	n := r.Buffered()
	if max >= 0 && n > max {
		n = max
	}
	b, _ := r.Peek(n)
	_, _ = r.Discard(n)
	return Unit{Data: b, Start: true, End: true}, nil
}

// LengthPrefixed frames messages that start with a length header of
// HeaderSize bytes (1, 2, 4 or 8), big-endian unless LittleEndian. The
// header's value plus Adjust is the payload length (Adjust = -HeaderSize when
// the length counts the header itself). Offset skips that many bytes before
// the length field (a type byte, for example); they count as header.
type LengthPrefixed struct {
	HeaderSize   int
	LittleEndian bool
	Offset       int
	Adjust       int
	// Heartbeat, when set, marks frames (header included) that are
	// keep-alives.
	Heartbeat func(frame []byte) bool
}

// Name implements Framing.
func (l LengthPrefixed) Name() string { return "length" }

// NewFramers implements Framing.
func (l LengthPrefixed) NewFramers() (up, down Framer) {
	return &lengthFramer{cfg: l}, &lengthFramer{cfg: l}
}

// Validate checks the header layout.
func (l LengthPrefixed) Validate() error {
	switch l.HeaderSize {
	case 1, 2, 4, 8:
	default:
		return fmt.Errorf("validate length framing: header size %d is not 1, 2, 4 or 8", l.HeaderSize)
	}
	if l.Offset < 0 {
		return fmt.Errorf("validate length framing: offset %d is negative", l.Offset)
	}
	return nil
}

type lengthFramer struct {
	cfg    LengthPrefixed
	remain int64 // payload bytes of the current frame not yet returned
}

func (f *lengthFramer) Next(r *bufio.Reader) (Unit, error) {
	if f.remain > 0 {
		u, err := nextRaw(r, int(min(f.remain, int64(r.Size()))))
		if err != nil {
			return u, err
		}
		f.remain -= int64(len(u.Data))
		u.Start, u.End = false, f.remain == 0
		return u, nil
	}
	hdr := f.cfg.Offset + f.cfg.HeaderSize
	h, err := r.Peek(hdr)
	if err != nil {
		return Unit{}, err
	}
	n := f.length(h[f.cfg.Offset:]) + int64(f.cfg.Adjust)
	if n < 0 {
		return Unit{}, fmt.Errorf("read length-prefixed frame: negative length %d", n)
	}
	if total := int64(hdr) + n; total <= int64(r.Size()) {
		b, err := r.Peek(int(total))
		if err != nil {
			return Unit{}, err
		}
		_, _ = r.Discard(int(total))
		hb := f.cfg.Heartbeat != nil && f.cfg.Heartbeat(b)
		return Unit{Data: b, Start: true, End: true, Heartbeat: hb}, nil
	}
	// Larger than the buffer: the header and what is buffered, then pieces.
	take := min(int64(r.Buffered()), int64(hdr)+n)
	b, _ := r.Peek(int(take))
	_, _ = r.Discard(int(take))
	f.remain = int64(hdr) + n - take
	return Unit{Data: b, Start: true, End: f.remain == 0}, nil
}

func (f *lengthFramer) length(b []byte) int64 {
	var order binary.ByteOrder = binary.BigEndian
	if f.cfg.LittleEndian {
		order = binary.LittleEndian
	}
	switch len(b) {
	case 1:
		return int64(b[0])
	case 2:
		return int64(order.Uint16(b))
	case 4:
		return int64(order.Uint32(b))
	default:
		return int64(order.Uint64(b) & (1<<62 - 1))
	}
}

// Delimited frames messages that end with Delim ("\n", "\r\n", "\x00", …).
// A message longer than the buffer is returned in pieces.
type Delimited struct {
	Delim []byte
	// Heartbeat, when set, marks messages (delimiter included) that are
	// keep-alives.
	Heartbeat func(msg []byte) bool
}

// Name implements Framing.
func (d Delimited) Name() string { return "delimited" }

// NewFramers implements Framing.
func (d Delimited) NewFramers() (up, down Framer) {
	return &delimFramer{cfg: d}, &delimFramer{cfg: d}
}

type delimFramer struct {
	cfg   Delimited
	inMsg bool // a piece of the current message was returned already
}

func (f *delimFramer) Next(r *bufio.Reader) (Unit, error) {
	delim := f.cfg.Delim
	if len(delim) == 0 {
		delim = []byte("\n")
	}
	for want := 1; ; want = r.Buffered() + 1 {
		if _, err := r.Peek(min(want, r.Size())); err != nil && r.Buffered() < want {
			return Unit{}, err
		}
		buf, _ := r.Peek(r.Buffered())
		if i := bytes.Index(buf, delim); i >= 0 {
			n := i + len(delim)
			_, _ = r.Discard(n)
			u := Unit{Data: buf[:n], Start: !f.inMsg, End: true}
			u.Heartbeat = u.Start && f.cfg.Heartbeat != nil && f.cfg.Heartbeat(u.Data)
			f.inMsg = false
			return u, nil
		}
		if len(buf) == r.Size() {
			// Full buffer and no delimiter: return all but a possible
			// partial delimiter at the end.
			n := len(buf) - (len(delim) - 1)
			_, _ = r.Discard(n)
			u := Unit{Data: buf[:n], Start: !f.inMsg}
			f.inMsg = true
			return u, nil
		}
	}
}
