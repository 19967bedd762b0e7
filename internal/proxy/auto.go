package proxy

import (
	"bufio"
	"bytes"
	"sync"
)

// Auto detects the protocol from the client's first bytes: the HTTP/2
// preface selects HTTP2, an HTTP/1.x request line HTTP1, anything else Raw.
// When upstream speaks first (MySQL, SMTP, …) the connection is Raw.
type Auto struct{}

// Name implements Framing.
func (Auto) Name() string { return "auto" }

// NewFramers implements Framing.
func (Auto) NewFramers() (up, down Framer) {
	s := &autoConn{}
	return &autoFramer{conn: s, request: true}, &autoFramer{conn: s}
}

type autoConn struct {
	mu       sync.Mutex
	up, down Framer // nil until decided
}

// decide settles the framing once; the first caller wins.
func (s *autoConn) decide(fr Framing) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.up == nil {
		s.up, s.down = fr.NewFramers()
	}
}

func (s *autoConn) framer(request bool) Framer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if request {
		return s.up
	}
	return s.down
}

type autoFramer struct {
	conn    *autoConn
	request bool
	inner   Framer
}

var httpMethods = []string{"GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "}

func (f *autoFramer) Next(r *bufio.Reader) (Unit, error) {
	if f.inner == nil {
		if f.inner = f.conn.framer(f.request); f.inner == nil {
			fr, err := f.detect(r)
			if err != nil {
				return Unit{}, err
			}
			f.conn.decide(fr)
			f.inner = f.conn.framer(f.request)
		}
	}
	return f.inner.Next(r)
}

// detect peeks at the first bytes without consuming them.
func (f *autoFramer) detect(r *bufio.Reader) (Framing, error) {
	if !f.request {
		if _, err := r.Peek(1); err != nil {
			return nil, err
		}
		return Raw{}, nil
	}
	for want := 1; want <= len(clientPreface); want = r.Buffered() + 1 {
		if _, err := r.Peek(want); err != nil {
			return nil, err
		}
		b, _ := r.Peek(min(r.Buffered(), len(clientPreface)))
		if fr, done := classify(b); done {
			return fr, nil
		}
	}
	return Raw{}, nil
}

// classify decides from a prefix of the stream, or asks for more bytes.
func classify(b []byte) (Framing, bool) {
	if bytes.HasPrefix(b, []byte(clientPreface)) {
		return HTTP2{}, true
	}
	more := bytes.HasPrefix([]byte(clientPreface), b)
	for _, m := range httpMethods {
		if bytes.HasPrefix(b, []byte(m)) && !more {
			return HTTP1{}, true
		}
		more = more || bytes.HasPrefix([]byte(m), b)
	}
	if more && len(b) < len(clientPreface) {
		return nil, false
	}
	return Raw{}, true
}

// answer implements answerer by delegating to the detected framer.
func (f *autoFramer) answer(ex uint64, req *Request, resp *Fault) (drop bool, extra []byte) {
	if a, ok := f.inner.(answerer); ok {
		return a.answer(ex, req, resp)
	}
	return false, nil
}

func (f *autoFramer) answersHang() bool {
	a, ok := f.inner.(answerer)
	return ok && a.answersHang()
}

// answerable reports whether the detected framer can answer exchanges.
func (f *autoFramer) answerable() bool {
	_, ok := f.inner.(answerer)
	return ok
}
