package proxy_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/proxy"
)

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Path", r.URL.Path)
		_, _ = w.Write([]byte("ok " + r.Method + " " + r.URL.Path + " " + string(body)))
	})
}

// get performs a request and returns status, body and elapsed time.
func get(c *http.Client, method, url, body string) (int, string, time.Duration, error) {
	start := time.Now()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", time.Since(start), err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(start), err
}

func TestHTTPFaults(t *testing.T) {
	t.Parallel()
	up := mustHTTP(t, okHandler(), false)
	const delay = 200 * time.Millisecond
	tests := []struct {
		name   string
		fault  proxy.Fault
		path   string
		status int
		min    time.Duration
		err    bool
	}{
		{name: "none", path: "/", status: 200},
		{name: "slow", fault: proxy.Fault{Type: proxy.Slow, Percent: 100, Delay: delay}, path: "/", status: 200, min: delay},
		{name: "slow per request", fault: proxy.Fault{Type: proxy.Slow, Percent: 100, Per: proxy.PerRequest, Delay: delay}, path: "/", status: 200, min: delay},
		{name: "slow upstream", fault: proxy.Fault{Type: proxy.Slow, Percent: 100, Direction: proxy.Upstream, Delay: delay}, path: "/", status: 200, min: delay},
		{name: "error", fault: proxy.Fault{Type: proxy.Error, Percent: 100, Status: 503, Body: "down for drill"}, path: "/", status: 503},
		{name: "error path matched", fault: proxy.Fault{Type: proxy.Error, Percent: 100, Match: proxy.Match{Path: "/api/*/orders"}}, path: "/api/v1/orders", status: 503},
		{name: "error path not matched", fault: proxy.Fault{Type: proxy.Error, Percent: 100, Match: proxy.Match{Path: "/api/*/orders"}}, path: "/health", status: 200},
		{name: "error method not matched", fault: proxy.Fault{Type: proxy.Error, Percent: 100, Match: proxy.Match{Method: "POST"}}, path: "/", status: 200},
		{name: "error header matched", fault: proxy.Fault{Type: proxy.Error, Percent: 100, Status: 429, Match: proxy.Match{Header: map[string]string{"X-Drill": "yes"}}}, path: "/", status: 429},
		{name: "error zero percent", fault: proxy.Fault{Type: proxy.Error, Percent: 0}, path: "/", status: 200},
		{name: "down", fault: proxy.Fault{Type: proxy.Down, Percent: 100}, path: "/", err: true},
		{name: "hang", fault: proxy.Fault{Type: proxy.Hang, Percent: 100}, path: "/", err: true},
		{name: "hang per request", fault: proxy.Fault{Type: proxy.Hang, Percent: 100, Per: proxy.PerRequest}, path: "/", err: true},
		{name: "truncate", fault: proxy.Fault{Type: proxy.Truncate, Percent: 100, Bytes: 20}, path: "/", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, addr := mustProxy(t, up)
			if tt.fault.Type != "" {
				tt.fault.ID = "f"
				if err := p.AddFault(tt.fault); err != nil {
					t.Fatal(err)
				}
			}
			c := httpClient(t, time.Second)
			req, _ := http.NewRequest(http.MethodGet, "http://"+addr+tt.path, nil)
			req.Header.Set("X-Drill", "yes")
			start := time.Now()
			resp, err := c.Do(req)
			d := time.Since(start)
			if tt.err {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("got status %d, want an error", resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || d < tt.min {
				t.Fatalf("got %d %q after %v, want %d after >= %v", resp.StatusCode, body, d, tt.status, tt.min)
			}
			if tt.fault.Body != "" && string(body) != tt.fault.Body {
				t.Fatalf("body %q, want %q", body, tt.fault.Body)
			}
			// Recover: the same client (and kept-alive connection) is
			// answered normally again.
			if err := p.SetFaults(nil); err != nil {
				t.Fatal(err)
			}
			status, _, _, err := get(c, http.MethodGet, "http://"+addr+"/after", "")
			if err != nil || status != 200 {
				t.Fatalf("after recovery: %d, %v", status, err)
			}
		})
	}
}

func TestHTTPDownRefusesThenRecovers(t *testing.T) {
	t.Parallel()
	up := mustHTTP(t, okHandler(), false)
	p, addr := mustProxy(t, up)
	if err := p.AddFault(proxy.Fault{ID: "down", Type: proxy.Down, Percent: 100}); err != nil {
		t.Fatal(err)
	}
	// The proxy accepts and resets at once: the client sees the reset on
	// connect or on its first read.
	c, err := net.Dial("tcp", addr)
	if err == nil {
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err = c.Read(make([]byte, 1))
	}
	if !errors.Is(err, syscallECONNRESET()) {
		t.Fatalf("read on a downed proxy: %v, want connection reset", err)
	}
	_ = p.RemoveFault("down")
	status, _, _, err := get(httpClient(t, time.Second), http.MethodGet, "http://"+addr+"/", "")
	if err != nil || status != 200 {
		t.Fatalf("after recovery: %d, %v", status, err)
	}
}

func TestHTTPKeepAliveAndBodies(t *testing.T) {
	t.Parallel()
	up := mustHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/chunked" {
			for range 3 {
				_, _ = w.Write(b)
				w.(http.Flusher).Flush()
			}
			return
		}
		_, _ = w.Write(b)
	}), false)
	p, addr := mustProxy(t, up)
	// A per-request error on /fail only; other requests on the same
	// keep-alive connection, with bodies of both kinds, pass intact.
	if err := p.AddFault(proxy.Fault{ID: "e", Type: proxy.Error, Percent: 100, Status: 500, Match: proxy.Match{Path: "/fail"}}); err != nil {
		t.Fatal(err)
	}
	c := httpClient(t, 2*time.Second)
	big := strings.Repeat("x", 100<<10)
	for i, tc := range []struct {
		method, path, body, want string
		status                   int
	}{
		{"POST", "/echo", big, big, 200},
		{"POST", "/fail", big, "", 500},
		{"POST", "/chunked", "abc", "abcabcabc", 200},
		{"HEAD", "/echo", "", "", 200},
		{"GET", "/fail", "", "", 500},
		{"POST", "/echo", "tail", "tail", 200},
	} {
		status, body, _, err := get(c, tc.method, "http://"+addr+tc.path, tc.body)
		if err != nil || status != tc.status || body != tc.want {
			t.Fatalf("request %d %s %s: %d (%d bytes), %v; want %d (%d bytes)", i, tc.method, tc.path, status, len(body), err, tc.status, len(tc.want))
		}
	}
}
