package proxy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// clientPreface starts every HTTP/2 connection (RFC 9113 §3.4).
const clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// HTTP2 frames HTTP/2 with prior knowledge (h2c, or h2 behind a TLS fault):
// a unit per frame (HEADERS with its CONTINUATIONs as one unit). Request
// HEADERS are decoded with the x/net http2 Framer and hpack so faults can
// match per stream; answered streams get a synthetic response (an HTTP
// status, or a trailers-only gRPC status) while the request still reaches
// upstream, followed by RST_STREAM, so both HPACK contexts stay in step.
type HTTP2 struct{}

// Name implements Framing.
func (HTTP2) Name() string { return "http2" }

// NewFramers implements Framing.
func (HTTP2) NewFramers() (up, down Framer) {
	s := &h2conn{answered: map[uint32]bool{}, seen: map[uint32]bool{}}
	up = &h2Framer{conn: s, request: true, dec: newMetaFramer(&s.src)}
	return up, &h2Framer{conn: s}
}

// h2conn is the state both directions of an HTTP/2 connection share.
type h2conn struct {
	src bytes.Reader // feeds the request direction's http2.Framer

	mu       sync.Mutex
	answered map[uint32]bool // streams the proxy answered or holds
	seen     map[uint32]bool // request streams whose HEADERS were read
	queued   []byte          // synthetic frames waiting for the client
}

func newMetaFramer(src *bytes.Reader) *http2.Framer {
	fr := http2.NewFramer(nil, src)
	fr.SetMaxReadFrameSize(1<<24 - 1)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	fr.MaxHeaderListSize = 1 << 20
	return fr
}

// h2Framer parses one direction of an HTTP/2 connection.
type h2Framer struct {
	conn     *h2conn
	request  bool
	dec      *http2.Framer // request direction only; nil once decoding failed
	preface  bool          // the client preface was read
	remain   int           // bytes left of a frame larger than the buffer
	ex       uint64        // stream of that frame
	inBlock  bool          // between HEADERS and its END_HEADERS (response side)
	rawAfter bool          // framing lost: raw units from now on
	dropping bool          // the pieces of the current large frame are dropped
	settings bool          // upstream's first SETTINGS went to the client
}

const h2HeaderLen = 9

func (f *h2Framer) Next(r *bufio.Reader) (Unit, error) {
	switch {
	case f.rawAfter:
		return nextRaw(r, -1)
	case f.remain > 0:
		u, err := nextRaw(r, min(f.remain, r.Size()))
		if err != nil {
			return u, err
		}
		f.remain -= len(u.Data)
		u.Start, u.End, u.Exchange = false, false, f.ex
		u.Partial, u.Drop = f.remain > 0, f.dropping
		return u, nil
	case f.request && !f.preface:
		return f.readPreface(r)
	case !f.request && !f.inBlock && f.settings:
		if q := f.takeQueued(); q != nil {
			return Unit{Data: q, Start: true, End: true, Synthetic: true}, nil
		}
	}
	h, err := r.Peek(h2HeaderLen)
	if err != nil {
		return Unit{}, err
	}
	length := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
	typ, flags := http2.FrameType(h[3]), http2.Flags(h[4])
	stream := binary.BigEndian.Uint32(h[5:9]) & (1<<31 - 1)
	if f.request && typ == http2.FrameHeaders {
		return f.requestHeaders(r, length, flags, stream)
	}
	if h2HeaderLen+length > r.Size() {
		// Larger than the buffer: a piece now, the rest as pieces.
		take := min(r.Buffered(), h2HeaderLen+length)
		b, _ := r.Peek(take)
		_, _ = r.Discard(take)
		f.remain, f.ex = h2HeaderLen+length-take, uint64(stream)
		u := Unit{Data: b, Start: true, Exchange: uint64(stream), Partial: f.remain > 0}
		if !f.request {
			u = f.responseFrame(u, typ, flags, stream, length)
		}
		f.dropping = u.Drop
		return u, nil
	}
	b, err := r.Peek(h2HeaderLen + length)
	if err != nil {
		return Unit{}, err
	}
	_, _ = r.Discard(len(b))
	u := Unit{Data: b, Start: true, Exchange: uint64(stream)}
	u.End = (typ == http2.FrameData || typ == http2.FrameHeaders) && flags.Has(http2.FlagDataEndStream)
	if typ == http2.FramePing && !flags.Has(http2.FlagPingAck) {
		u.Heartbeat = true
	}
	if f.request {
		return u, nil
	}
	return f.responseFrame(u, typ, flags, stream, length), nil
}

// readPreface consumes the client connection preface, or gives up framing
// when the client does not speak HTTP/2 with prior knowledge.
func (f *h2Framer) readPreface(r *bufio.Reader) (Unit, error) {
	b, err := r.Peek(len(clientPreface))
	if err != nil {
		if r.Buffered() > 0 && !strings.HasPrefix(clientPreface, string(must(r.Peek(r.Buffered())))) {
			f.rawAfter = true
			return nextRaw(r, -1)
		}
		return Unit{}, err
	}
	if string(b) != clientPreface {
		f.rawAfter = true
		return nextRaw(r, -1)
	}
	_, _ = r.Discard(len(b))
	f.preface = true
	return Unit{Data: b, Start: true, End: true}, nil
}

// requestHeaders returns a HEADERS frame with its CONTINUATIONs as one
// unit, decoding the block into a Request.
func (f *h2Framer) requestHeaders(r *bufio.Reader, length int, flags http2.Flags, stream uint32) (Unit, error) {
	total := h2HeaderLen + length
	for end := flags.Has(http2.FlagHeadersEndHeaders); !end; {
		if total+h2HeaderLen > r.Size() {
			f.rawAfter = true
			return nextRaw(r, -1)
		}
		h, err := r.Peek(total + h2HeaderLen)
		if err != nil {
			return Unit{}, err
		}
		h = h[total:]
		total += h2HeaderLen + (int(h[0])<<16 | int(h[1])<<8 | int(h[2]))
		end = http2.Flags(h[4]).Has(http2.FlagContinuationEndHeaders)
	}
	if total > r.Size() {
		f.rawAfter = true
		return nextRaw(r, -1)
	}
	b, err := r.Peek(total)
	if err != nil {
		return Unit{}, err
	}
	_, _ = r.Discard(total)
	u := Unit{Data: b, Start: true, End: flags.Has(http2.FlagHeadersEndStream), Exchange: uint64(stream)}
	f.conn.mu.Lock()
	first := !f.conn.seen[stream]
	f.conn.seen[stream] = true
	f.conn.mu.Unlock()
	if req := f.decode(b); req != nil && first {
		u.Request = req
	}
	return u, nil
}

// decode runs the header block through the request direction's HPACK
// decoder. A decoding failure ends request matching on this connection
// (the bytes are still forwarded unchanged).
func (f *h2Framer) decode(b []byte) *Request {
	if f.dec == nil {
		return nil
	}
	f.conn.src.Reset(b)
	fr, err := f.dec.ReadFrame()
	mh, ok := fr.(*http2.MetaHeadersFrame)
	if err != nil || !ok {
		if _, isStream := err.(http2.StreamError); !isStream {
			f.dec = nil
		}
		return nil
	}
	req := &Request{Method: mh.PseudoValue("method"), Path: mh.PseudoValue("path"), Header: http.Header{}, HTTP2: true}
	for _, hf := range mh.RegularFields() {
		req.Header.Add(hf.Name, hf.Value)
	}
	req.GRPC = strings.HasPrefix(req.Header.Get("Content-Type"), "application/grpc")
	return req
}

// responseFrame adjusts upstream frames of streams the proxy answered:
// HEADERS lose END_STREAM (the client must keep decoding them, but the
// stream must not complete), DATA is dropped and its flow-control credit
// refunded to upstream, RST_STREAM is dropped.
func (f *h2Framer) responseFrame(u Unit, typ http2.FrameType, flags http2.Flags, stream uint32, length int) Unit {
	if typ == http2.FrameSettings {
		f.settings = true // answers may go out after the server preface
	}
	if typ == http2.FrameHeaders {
		f.inBlock = !flags.Has(http2.FlagHeadersEndHeaders)
	} else if typ == http2.FrameContinuation {
		f.inBlock = !flags.Has(http2.FlagContinuationEndHeaders)
	}
	if stream == 0 || !f.isAnswered(stream) {
		return u
	}
	switch typ {
	case http2.FrameHeaders:
		u.Data[4] &^= byte(http2.FlagHeadersEndStream)
	case http2.FrameData:
		u.Drop = true
		if u.Start && length > 0 {
			u.Reply = h2Frame(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(0, uint32(length)) })
		}
	case http2.FrameRSTStream:
		u.Drop = true
	}
	u.End = false
	return u
}

func (f *h2Framer) isAnswered(stream uint32) bool {
	f.conn.mu.Lock()
	defer f.conn.mu.Unlock()
	return f.conn.answered[stream]
}

func (f *h2Framer) takeQueued() []byte {
	f.conn.mu.Lock()
	defer f.conn.mu.Unlock()
	q := f.conn.queued
	f.conn.queued = nil
	return q
}

// answer implements answerer. The request is still forwarded (its header
// block updates upstream's HPACK table) and followed by RST_STREAM(CANCEL);
// the client gets resp's answer, or nothing when resp is nil (hang).
func (f *h2Framer) answer(ex uint64, req *Request, resp *Fault) (drop bool, extra []byte) {
	stream := uint32(ex)
	f.conn.mu.Lock()
	defer f.conn.mu.Unlock()
	f.conn.answered[stream] = true
	if len(f.conn.answered) > 4096 {
		for k := range f.conn.answered {
			if k < stream-4096 {
				delete(f.conn.answered, k)
			}
		}
	}
	if resp != nil {
		f.conn.queued = append(f.conn.queued, h2Answer(stream, req, resp)...)
	}
	return false, h2Frame(func(fr *http2.Framer) error { return fr.WriteRSTStream(stream, http2.ErrCodeCancel) })
}

func (f *h2Framer) answersHang() bool { return true }

// h2Frame renders frames written by fn.
func h2Frame(fn func(*http2.Framer) error) []byte {
	var b bytes.Buffer
	_ = fn(http2.NewFramer(&b, nil))
	return b.Bytes()
}

// h2Answer renders the synthetic response to stream: a trailers-only gRPC
// status for gRPC requests, an HTTP status with optional body otherwise.
// Fields are encoded as never-indexed literals so the client's HPACK table
// is left as upstream's encoder expects it.
func h2Answer(stream uint32, req *Request, f *Fault) []byte {
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	field := func(k, v string) { _ = enc.WriteField(hpack.HeaderField{Name: k, Value: v, Sensitive: true}) }
	body := []byte(f.Body)
	if req != nil && req.GRPC {
		field(":status", "200")
		field("content-type", "application/grpc")
		field("grpc-status", strconv.Itoa(grpcCode(f)))
		msg := f.GRPCMessage
		if msg == "" {
			msg = "injected by bulwark fault " + f.ID
		}
		field("grpc-message", url.PathEscape(msg))
		body = nil
	} else {
		status := f.Status
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		field(":status", strconv.Itoa(status))
		ct := "text/plain; charset=utf-8"
		for k, v := range f.Header {
			if strings.EqualFold(k, "content-type") {
				ct = v
			}
		}
		field("content-type", ct)
		field("content-length", strconv.Itoa(len(body)))
		field("x-bulwark-fault", f.ID)
	}
	for k, v := range f.Header {
		if !strings.EqualFold(k, "content-type") {
			field(strings.ToLower(k), v)
		}
	}
	return h2Frame(func(fr *http2.Framer) error {
		err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: block.Bytes(), EndHeaders: true, EndStream: len(body) == 0})
		for len(body) > 0 && err == nil {
			n := min(len(body), 16384)
			err = fr.WriteData(stream, n == len(body), body[:n])
			body = body[n:]
		}
		return err
	})
}

// grpcCode is the fault's gRPC status, or the one gRPC maps its HTTP
// status to (grpc/doc/http-grpc-status-mapping.md).
func grpcCode(f *Fault) int {
	if f.GRPCStatus != 0 {
		return f.GRPCStatus
	}
	switch f.Status {
	case 400:
		return 13
	case 401:
		return 16
	case 403:
		return 7
	case 404:
		return 12
	case 429, 502, 503, 504:
		return 14
	default:
		return 2
	}
}

func must(b []byte, _ error) []byte { return b }
