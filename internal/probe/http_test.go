package probe_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/probe"
)

// testServer serves /ok (200), /fail (500), /slow (sleeps 300ms) and /echo
// (200 only for POST with header X-Probe: yes and body "ping").
func testServer(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "fine") })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(300 * time.Millisecond):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("X-Probe") != "yes" || string(b) != "ping" {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPProbe(t *testing.T) {
	srv := testServer(t)
	cases := []struct {
		name    string
		cfg     probe.HTTPConfig
		ok      bool
		errPart string
	}{
		{"200 default", probe.HTTPConfig{URL: srv.URL + "/ok"}, true, ""},
		{"500 default", probe.HTTPConfig{URL: srv.URL + "/fail"}, false, "status 500, want 2xx"},
		{"500 expected", probe.HTTPConfig{URL: srv.URL + "/fail", ExpectStatus: []int{500, 503}}, true, ""},
		{"200 not expected", probe.HTTPConfig{URL: srv.URL + "/ok", ExpectStatus: []int{204}}, false, "want [204]"},
		{"timeout", probe.HTTPConfig{URL: srv.URL + "/slow", Timeout: bulwark.Duration(50 * time.Millisecond)}, false, "deadline exceeded"},
		{"method headers body", probe.HTTPConfig{URL: srv.URL + "/echo", Method: "POST",
			Headers: map[string]string{"X-Probe": "yes"}, Body: "ping"}, true, ""},
		{"refused", probe.HTTPConfig{URL: "http://" + closedAddr(t) + "/"}, false, "refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustProbe(t, "api", &tc.cfg, probe.Options{})
			r := check(t, p)
			if r.OK != tc.ok || !strings.Contains(r.Err, tc.errPart) {
				t.Fatalf("Check = %+v, want ok=%v err~%q", r, tc.ok, tc.errPart)
			}
			if r.Time.IsZero() || r.Latency <= 0 {
				t.Errorf("Time %v, Latency %v: want both set", r.Time, r.Latency)
			}
			if tc.name == "timeout" && r.Latency > time.Second {
				t.Errorf("timeout took %v", r.Latency)
			}
		})
	}
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestTCPProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	cases := []struct {
		name string
		addr string
		ok   bool
	}{
		{"listening", l.Addr().String(), true},
		{"closed", closedAddr(t), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustProbe(t, "db", &probe.TCPConfig{Address: tc.addr, Timeout: bulwark.Duration(time.Second)}, probe.Options{})
			if r := check(t, p); r.OK != tc.ok {
				t.Fatalf("Check = %+v, want ok=%v", r, tc.ok)
			}
		})
	}
}

// TestHTTPProbeConnections checks that each check opens a new connection (a
// fault on new connections reaches it) unless keepAlive reuses one.
func TestHTTPProbeConnections(t *testing.T) {
	for _, tc := range []struct {
		keepAlive bool
		want      int64
	}{{false, 5}, {true, 1}} {
		var opened atomic.Int64
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "fine") }))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				opened.Add(1)
			}
		}
		srv.Start()
		p, err := (&probe.HTTPConfig{URL: srv.URL, KeepAlive: tc.keepAlive}).Build("api", probe.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			if r := p.Check(context.Background()); !r.OK {
				t.Fatalf("keepAlive %v: check failed: %s", tc.keepAlive, r.Err)
			}
		}
		p.Close()
		srv.Close()
		if got := opened.Load(); got != tc.want {
			t.Errorf("keepAlive %v: %d connections for 5 checks, want %d", tc.keepAlive, got, tc.want)
		}
	}
}
