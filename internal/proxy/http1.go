package proxy

import (
	"bufio"
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// HTTP1 frames HTTP/1.1: a unit for each message head (carrying the parsed
// Request on requests) and for each piece of a Content-Length or chunked
// body. It follows keep-alive and pipelining, HEAD, 1xx, 204 and 304
// responses, and falls back to raw units after an upgrade (101, CONNECT) or
// a message it cannot parse.
type HTTP1 struct{}

// Name implements Framing.
func (HTTP1) Name() string { return "http1" }

// NewFramers implements Framing.
func (HTTP1) NewFramers() (up, down Framer) {
	s := &h1conn{}
	return &h1Framer{conn: s, request: true}, &h1Framer{conn: s}
}

// h1conn is the state the two directions of an HTTP/1.1 connection share:
// the requests waiting for a response, in order.
type h1conn struct {
	mu      sync.Mutex
	pending []*h1exchange
	seq     uint64
}

type h1exchange struct {
	id     uint64
	method string
	answer []byte // the proxy's response; upstream never sees the request
}

func (c *h1conn) push(method string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.pending = append(c.pending, &h1exchange{id: c.seq, method: method})
	return c.seq
}

// head returns the method and ID of the oldest exchange still waiting for
// a response (GET and 0 when there is none).
func (c *h1conn) head() (method string, id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 {
		return http.MethodGet, 0
	}
	return c.pending[0].method, c.pending[0].id
}

func (c *h1conn) pop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) > 0 {
		c.pending = c.pending[1:]
	}
}

type h1state int

const (
	h1Head h1state = iota
	h1Body
	h1ChunkLine
	h1ChunkData
	h1Trailer
	h1Raw // upgraded, unparsable, or read until close
)

// h1Framer parses one direction.
type h1Framer struct {
	conn    *h1conn
	request bool
	state   h1state
	remain  int64  // body or chunk bytes left
	ex      uint64 // current exchange
	drop    bool   // current request was answered by the proxy
	after   h1state
}

func (f *h1Framer) Next(r *bufio.Reader) (Unit, error) {
	if !f.request && f.state == h1Head {
		if u, ok := f.synthetic(); ok {
			return u, nil
		}
	}
	switch f.state {
	case h1Head:
		return f.head(r)
	case h1Body, h1ChunkData:
		u, err := nextRaw(r, int(min(f.remain, int64(r.Size()))))
		if err != nil {
			return u, err
		}
		f.remain -= int64(len(u.Data))
		u.Start = false
		u.End = f.remain == 0 && f.state == h1Body
		if f.remain == 0 && f.state == h1ChunkData {
			f.state = h1ChunkLine
		}
		return f.mark(u), nil
	case h1ChunkLine, h1Trailer:
		return f.line(r)
	default:
		u, err := nextRaw(r, -1)
		return u, err
	}
}

// mark stamps a unit with the current exchange and ends it when the
// message is complete.
func (f *h1Framer) mark(u Unit) Unit {
	u.Exchange = f.ex
	u.Drop = f.drop
	if u.End {
		f.end()
	}
	return u
}

func (f *h1Framer) end() {
	if !f.request {
		f.conn.pop()
	}
	f.state = h1Head
	if f.after == h1Raw {
		f.state = h1Raw
	}
}

// synthetic returns the proxy's answer when the oldest pending exchange was
// answered locally; it blocks nothing and reads nothing.
func (f *h1Framer) synthetic() (Unit, bool) {
	f.conn.mu.Lock()
	defer f.conn.mu.Unlock()
	if len(f.conn.pending) == 0 || f.conn.pending[0].answer == nil {
		return Unit{}, false
	}
	x := f.conn.pending[0]
	f.conn.pending = f.conn.pending[1:]
	return Unit{Data: x.answer, Start: true, End: true, Exchange: x.id, Synthetic: true}, true
}

// head reads a complete message head and works out the body framing.
func (f *h1Framer) head(r *bufio.Reader) (Unit, error) {
	b, err := peekUntil(r, []byte("\r\n\r\n"))
	if err == errBufferFull {
		f.state = h1Raw
		return nextRaw(r, -1)
	}
	if err != nil {
		return Unit{}, err
	}
	if f.request {
		return f.requestHead(r, b)
	}
	return f.responseHead(r, b)
}

func (f *h1Framer) requestHead(r *bufio.Reader, b []byte) (Unit, error) {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		f.state = h1Raw
		return nextRaw(r, -1)
	}
	_, _ = r.Discard(len(b))
	f.ex = f.conn.push(req.Method)
	f.drop = false
	f.after = h1Head
	if req.Method == http.MethodConnect || isUpgrade(req.Header) {
		f.after = h1Raw
	}
	u := Unit{Data: b, Start: true, Exchange: f.ex, Request: &Request{
		Method: req.Method,
		Path:   req.URL.RequestURI(),
		Header: req.Header,
		GRPC:   strings.HasPrefix(req.Header.Get("Content-Type"), "application/grpc"),
	}}
	f.body(chunked(req.TransferEncoding), req.ContentLength, false)
	u.End = f.state == h1Head
	if u.End {
		f.end()
	}
	return u, nil
}

func (f *h1Framer) responseHead(r *bufio.Reader, b []byte) (Unit, error) {
	method, ex := f.conn.head()
	f.ex = ex
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), &http.Request{Method: method})
	if err != nil {
		f.state = h1Raw
		return nextRaw(r, -1)
	}
	_, _ = r.Discard(len(b))
	u := Unit{Data: b, Start: true, Exchange: f.ex}
	if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
		return u, nil // interim response: the exchange goes on
	}
	f.after = h1Head
	if resp.StatusCode == http.StatusSwitchingProtocols || (method == http.MethodConnect && resp.StatusCode/100 == 2) {
		f.after = h1Raw
	}
	noBody := method == http.MethodHead || resp.StatusCode == 204 || resp.StatusCode == 304 || f.after == h1Raw
	f.body(chunked(resp.TransferEncoding), resp.ContentLength, !noBody)
	if noBody {
		f.state = h1Head
	}
	u.End = f.state == h1Head
	if u.End {
		f.end()
	}
	return u, nil
}

// body sets the state for the message body. untilClose applies to
// responses without a length: the rest of the connection is the body.
func (f *h1Framer) body(isChunked bool, length int64, untilClose bool) {
	switch {
	case isChunked:
		f.state = h1ChunkLine
	case length > 0:
		f.state, f.remain = h1Body, length
	case length < 0 && untilClose:
		f.state, f.after = h1Raw, h1Raw
	default:
		f.state = h1Head
	}
}

// line returns one chunk-size or trailer line.
func (f *h1Framer) line(r *bufio.Reader) (Unit, error) {
	b, err := peekUntil(r, []byte("\r\n"))
	if err == errBufferFull {
		f.state = h1Raw
		return nextRaw(r, -1)
	}
	if err != nil {
		return Unit{}, err
	}
	_, _ = r.Discard(len(b))
	u := Unit{Data: b}
	if f.state == h1Trailer {
		if len(b) == 2 {
			u.End = true
		}
		return f.mark(u), nil
	}
	size := strings.TrimSpace(string(b))
	if i := strings.IndexByte(size, ';'); i >= 0 {
		size = size[:i]
	}
	n, err := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
	if err != nil || n < 0 {
		f.state = h1Raw
		return f.mark(u), nil
	}
	if n == 0 {
		f.state = h1Trailer
	} else {
		f.state, f.remain = h1ChunkData, n+2
	}
	return f.mark(u), nil
}

// answer implements answerer: the request and its body are not forwarded,
// and the response framer returns resp's HTTP answer in order.
func (f *h1Framer) answer(ex uint64, req *Request, resp *Fault) (drop bool, extra []byte) {
	f.conn.mu.Lock()
	defer f.conn.mu.Unlock()
	for _, x := range f.conn.pending {
		if x.id == ex && resp != nil {
			x.answer = httpAnswer(resp)
		}
	}
	if ex == f.ex {
		f.drop = true
	}
	return true, nil
}

func (f *h1Framer) answersHang() bool { return false }

// peekUntil returns the buffered bytes up to and including delim, reading
// more as needed, without consuming them.
func peekUntil(r *bufio.Reader, delim []byte) ([]byte, error) {
	for want := 1; ; want = r.Buffered() + 1 {
		if want > r.Size() {
			return nil, errBufferFull
		}
		if _, err := r.Peek(want); err != nil {
			return nil, err
		}
		buf, _ := r.Peek(r.Buffered())
		if i := bytes.Index(buf, delim); i >= 0 {
			return buf[:i+len(delim)], nil
		}
	}
}

func chunked(te []string) bool { return len(te) > 0 && te[0] == "chunked" }

func isUpgrade(h http.Header) bool {
	return h.Get("Upgrade") != "" && headerHas(h, "Connection", "upgrade") ||
		h.Get("Upgrade") != "" && headerHas(h, "Connection", "Upgrade")
}

// httpAnswer renders an HTTP/1.1 response for an Error fault.
func httpAnswer(f *Fault) []byte {
	status := f.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	body := f.Body
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n")
	h := http.Header{}
	for k, v := range f.Header {
		h.Set(k, v)
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Bulwark-Fault", f.ID)
	_ = h.Write(&b)
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.Bytes()
}
