//go:build linux

package dep_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

func TestMain(m *testing.M) { faulttest.Main(m) }

// sandbox enters the test's sandbox and returns its host, or false in the
// parent process.
func sandbox(t *testing.T) (*fault.Host, bool) {
	t.Helper()
	testutil.Require(t, "root", "sandbox", "nftables")
	if !testutil.Sandbox(t) {
		return nil, false
	}
	h := faulttest.SandboxHost(t)
	fixExe(h)
	return h, true
}

// fixExe points h.Exe at /proc/self/exe when the sandbox's tmpfs on /tmp
// hides the test binary (go test builds it there).
func fixExe(h *fault.Host) {
	if _, err := os.Stat(h.Exe); err != nil {
		h.Exe = "/proc/self/exe"
	}
}

func openManager(t *testing.T, h *fault.Host) *hostmgr.Manager {
	t.Helper()
	m, err := hostmgr.Open(context.Background(), hostmgr.Config{StateDir: h.StateDir, Host: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func inject(t *testing.T, m *hostmgr.Manager, kind string, params map[string]string) *bulwark.Fault {
	t.Helper()
	f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: kind, Params: params, Duration: bulwark.Duration(time.Minute)})
	if err != nil {
		t.Fatalf("inject %s %v: %v", kind, params, err)
	}
	if f.State != bulwark.StateActive {
		t.Fatalf("inject %s: %+v", kind, f)
	}
	for _, e := range f.Evidence {
		t.Logf("evidence %s ok=%t: %s", e.Check, e.OK, e.Detail)
	}
	return f
}

func recoverFault(t *testing.T, m *hostmgr.Manager, f *bulwark.Fault) {
	t.Helper()
	out, err := m.Recover(context.Background(), f.ID)
	if err != nil || out[0].State != bulwark.StateRecovered {
		t.Fatalf("recover: %v %+v", err, out)
	}
}

// serveHTTP answers "ok" on addr until the test ends.
func serveHTTP(t *testing.T, addr string) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

// get makes one request on a fresh connection and returns the status and
// how long it took.
func get(url string, timeout time.Duration) (int, time.Duration, error) {
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		return 0, time.Since(start), err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return resp.StatusCode, time.Since(start), err
}

// serveRESP is a tiny Redis-protocol server: PING → +PONG, GET k → $2 ok,
// anything else → +OK. Commands are inline or RESP arrays.
func serveRESP(t *testing.T, addr string) {
	t.Helper()
	serveLines(t, addr, func(w *bufio.Writer, r *bufio.Reader, line string) error {
		args := strings.Fields(line)
		if strings.HasPrefix(line, "*") { // RESP array: *N then N bulk strings
			var n int
			fmt.Sscanf(line, "*%d", &n)
			args = nil
			for range n {
				if _, err := r.ReadString('\n'); err != nil { // $len
					return err
				}
				s, err := r.ReadString('\n')
				if err != nil {
					return err
				}
				args = append(args, strings.TrimRight(s, "\r\n"))
			}
		}
		switch {
		case len(args) > 0 && strings.EqualFold(args[0], "PING"):
			w.WriteString("+PONG\r\n")
		case len(args) > 0 && strings.EqualFold(args[0], "GET"):
			w.WriteString("$2\r\nok\r\n")
		default:
			w.WriteString("+OK\r\n")
		}
		return nil
	})
}

// serveLines calls fn for each line read on each connection to addr.
func serveLines(t *testing.T, addr string, fn func(w *bufio.Writer, r *bufio.Reader, line string) error) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r, w := bufio.NewReader(c), bufio.NewWriter(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if fn(w, r, strings.TrimRight(line, "\r\n")) != nil || w.Flush() != nil {
						return
					}
				}
			}()
		}
	}()
}

// redisPing sends PING as a RESP array on a fresh connection and returns the
// reply and how long it took.
func redisPing(addr string, timeout time.Duration) (string, time.Duration, error) {
	start := time.Now()
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", time.Since(start), err
	}
	defer c.Close()
	_ = c.SetDeadline(start.Add(timeout))
	if _, err := io.WriteString(c, "*1\r\n$4\r\nPING\r\n"); err != nil {
		return "", time.Since(start), err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), time.Since(start), err
}

// isRefusedOrReset reports a connection refused, reset or closed early.
func isRefusedOrReset(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "refused") || strings.Contains(s, "reset") || errors.Is(err, io.EOF) ||
		strings.Contains(s, "EOF") || strings.Contains(s, "broken pipe")
}

// isTimeout reports a client-side timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return err != nil && (errors.As(err, &ne) && ne.Timeout() || strings.Contains(err.Error(), "Timeout"))
}

// helperLogs prints the fault's helper log, for failures.
func helperLogs(t *testing.T, h *fault.Host) {
	ms, _ := filepath.Glob(filepath.Join(h.StateDir, "data", "*", "helper.log"))
	for _, m := range ms {
		b, _ := os.ReadFile(m)
		t.Logf("%s:\n%s", m, b)
	}
}

// waitNoHelpers waits until no dep-proxy helper runs (one that drains
// proxied connections after recover exits once they end).
func waitNoHelpers(t *testing.T, h *fault.Host, wait time.Duration) {
	t.Helper()
	end := time.Now().Add(wait)
	for {
		ms, _ := filepath.Glob(filepath.Join(h.ProcRoot, "[0-9]*", "cmdline"))
		var left []string
		for _, m := range ms {
			b, _ := os.ReadFile(m)
			st, _ := os.ReadFile(filepath.Join(filepath.Dir(m), "stat"))
			zombie := strings.Contains(string(st), ") Z ")
			if strings.Contains(string(b), "\x00dep-proxy\x00") || zombie {
				left = append(left, m)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("dep-proxy helpers still run after %s: %v", wait, left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
