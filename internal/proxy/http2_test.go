package proxy_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/proxy"
)

// h2Client speaks HTTP/2 with prior knowledge (h2c) over one connection.
func h2Client(tb testing.TB) *http.Client {
	tb.Helper()
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 2 * time.Second}
}

// grpcHandler answers like a unary gRPC server: one message and status 0.
func grpcHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
			okHandler().ServeHTTP(w, r)
			return
		}
		_, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
		_, _ = w.Write(grpcMessage("pong"))
		w.Header().Set("Grpc-Status", "0")
	})
}

func grpcMessage(s string) []byte {
	b := make([]byte, 5, 5+len(s))
	binary.BigEndian.PutUint32(b[1:], uint32(len(s)))
	return append(b, s...)
}

// grpcCall makes a unary call and returns the grpc-status (headers for a
// trailers-only response, trailers otherwise).
func grpcCall(tb testing.TB, c *http.Client, url string) string {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(grpcMessage("ping")))
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		tb.Fatalf("protocol %s, want HTTP/2", resp.Proto)
	}
	_, _ = io.ReadAll(resp.Body)
	if s := resp.Header.Get("Grpc-Status"); s != "" {
		return s
	}
	return resp.Trailer.Get("Grpc-Status")
}

func TestHTTP2PerStreamFaults(t *testing.T) {
	t.Parallel()
	up := mustHTTP(t, grpcHandler(), true)
	p, addr := mustProxy(t, up)
	if err := p.SetFaults([]proxy.Fault{
		{ID: "e", Type: proxy.Error, Percent: 100, Status: 503, Body: "drill", Match: proxy.Match{Path: "/fail"}},
		{ID: "g", Type: proxy.Error, Percent: 100, GRPCStatus: 14, Match: proxy.Match{Path: "/pkg.Orders/"}},
		{ID: "s", Type: proxy.Slow, Percent: 100, Per: proxy.PerRequest, Delay: 150 * time.Millisecond, Match: proxy.Match{Path: "/slow"}},
	}); err != nil {
		t.Fatal(err)
	}
	c := h2Client(t)
	base := "http://" + addr
	// Streams on one connection: matched ones are answered by the proxy,
	// the others reach the server, and HPACK stays in step throughout.
	for range 3 {
		if status, body, _, err := get(c, http.MethodGet, base+"/fail", ""); err != nil || status != 503 || body != "drill" {
			t.Fatalf("/fail: %d %q %v", status, body, err)
		}
		if status, body, _, err := get(c, http.MethodGet, base+"/ok", ""); err != nil || status != 200 || body != "ok GET /ok " {
			t.Fatalf("/ok: %d %q %v", status, body, err)
		}
		if got := grpcCall(t, c, base+"/pkg.Orders/Place"); got != "14" {
			t.Fatalf("grpc-status %q, want 14", got)
		}
		if got := grpcCall(t, c, base+"/pkg.Quotes/Get"); got != "0" {
			t.Fatalf("grpc-status %q, want 0", got)
		}
		if status, _, d, err := get(c, http.MethodGet, base+"/slow", ""); err != nil || status != 200 || d < 150*time.Millisecond {
			t.Fatalf("/slow: %d after %v, %v", status, d, err)
		}
	}
	if err := p.SetFaults(nil); err != nil {
		t.Fatal(err)
	}
	if status, _, _, err := get(c, http.MethodGet, base+"/fail", ""); err != nil || status != 200 {
		t.Fatalf("/fail after recovery: %d %v", status, err)
	}
}

func TestHTTP2HangPerStream(t *testing.T) {
	t.Parallel()
	up := mustHTTP(t, okHandler(), true)
	p, addr := mustProxy(t, up)
	if err := p.AddFault(proxy.Fault{ID: "h", Type: proxy.Hang, Percent: 100, Per: proxy.PerRequest, Match: proxy.Match{Path: "/hang"}}); err != nil {
		t.Fatal(err)
	}
	c := h2Client(t)
	c.Timeout = 300 * time.Millisecond
	if _, _, _, err := get(c, http.MethodGet, "http://"+addr+"/hang", ""); err == nil {
		t.Fatal("hung stream answered")
	}
	if status, _, _, err := get(c, http.MethodGet, "http://"+addr+"/ok", ""); err != nil || status != 200 {
		t.Fatalf("other stream: %d %v", status, err)
	}
}
