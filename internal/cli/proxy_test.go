package cli_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/cli"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestProxyExplicit runs `bulwark proxy` in process in front of an HTTP
// server, adds faults through its API (Bulwark's and Toxiproxy's shapes)
// and checks what a plain HTTP client sees; Ctrl-C (ctx) drains and exits 0.
func TestProxyExplicit(t *testing.T) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(up)
	defer srv.Close()

	listen, api := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, []string{"proxy", "--listen", listen, "--upstream", up.Addr().String(), "--api", api}, &out, &errOut)
	}()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if resp, err := client.Get("http://" + api + "/faults"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("api not up: %s %s", out.String(), errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	fetch := func() (int, time.Duration) {
		t.Helper()
		start := time.Now()
		resp, err := client.Get("http://" + listen + "/")
		if err != nil {
			t.Fatalf("through the proxy: %v", err)
		}
		defer resp.Body.Close()
		_, _ = io.ReadAll(resp.Body)
		return resp.StatusCode, time.Since(start)
	}
	post := func(path, body string, want int) {
		t.Helper()
		resp, err := client.Post("http://"+api+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("POST %s %s: %d %s", path, body, resp.StatusCode, b)
		}
	}
	del := func(path string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodDelete, "http://"+api+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("DELETE %s: %d", path, resp.StatusCode)
		}
	}

	if code, took := fetch(); code != 200 || took > 250*time.Millisecond {
		t.Fatalf("no fault: %d in %s", code, took)
	}
	post("/faults", `{"id":"slow","type":"slow","delay":"300ms"}`, http.StatusCreated)
	if code, took := fetch(); code != 200 || took < 300*time.Millisecond {
		t.Errorf("slow: %d in %s, want 200 after ≥ 300ms", code, took)
	}
	del("/faults/slow")
	post("/faults", `{"id":"err","type":"error","status":503}`, http.StatusCreated)
	if code, _ := fetch(); code != http.StatusServiceUnavailable {
		t.Errorf("error: %d, want 503", code)
	}
	del("/faults/err")
	// Toxiproxy's shape: a latency toxic on the primary proxy.
	post("/proxies/bulwark/toxics", `{"name":"lat","type":"latency","stream":"downstream","toxicity":1,"attributes":{"latency":300}}`, http.StatusOK)
	if code, took := fetch(); code != 200 || took < 300*time.Millisecond {
		t.Errorf("toxiproxy latency: %d in %s, want 200 after ≥ 300ms", code, took)
	}
	del("/proxies/bulwark/toxics/lat")
	// Without a fault a fetch takes a few ms; the bounds leave room for a
	// loaded CI machine and stay under the 300ms faults.
	if code, took := fetch(); code != 200 || took > 250*time.Millisecond {
		t.Errorf("after removing the faults: %d in %s", code, took)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("bulwark proxy exited %d: %s %s", code, out.String(), errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("bulwark proxy did not exit after Ctrl-C")
	}
	if !strings.Contains(out.String(), "proxy listening on "+listen) {
		t.Errorf("output: %q", out.String())
	}
}

// TestProxyUsage checks that missing flags are usage errors (exit 2).
func TestProxyUsage(t *testing.T) {
	for _, args := range [][]string{
		{"proxy", "--upstream", "127.0.0.1:1"},
		{"proxy", "--listen", "127.0.0.1:0"},
		{"proxy", "--listen", "127.0.0.1:0", "--upstream", "nohost"},
		{"proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--framing", "bogus"},
	} {
		var out, errOut syncBuffer
		if code := cli.Main(context.Background(), args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut.String())
		}
	}
}
