//go:build linux

package exhaust_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/exhaust"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// The sandbox's own network namespace gets a narrow ephemeral range, so the
// helper uses it up in a moment; the listeners sit outside it.
const (
	testRange     = "40000 40199" // 200 ports
	testDest      = "127.0.0.1:39999"
	testOtherDest = "127.0.0.1:39998"
)

// listen accepts and holds connections on addr until the test ends; a
// connection the peer resets is closed.
func listen(t *testing.T, addr string) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = c.Read(make([]byte, 1)); c.Close() }()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
}

// dial connects to addr and closes the connection at once with a reset (no
// TIME_WAIT holding the port).
func dial(addr string) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	_ = c.(*net.TCPConn).SetLinger(0)
	return c.Close()
}

func portSetup(params map[string]string) func(t *testing.T, h *fault.Host) map[string]string {
	return func(t *testing.T, h *fault.Host) map[string]string {
		// The sandbox's network namespace is its own: this changes nothing
		// outside it.
		if err := os.WriteFile("/proc/sys/net/ipv4/ip_local_port_range", []byte(testRange), 0o644); err != nil {
			t.Fatal(err)
		}
		listen(t, testDest)
		listen(t, testOtherDest)
		out := map[string]string{"destination": testDest}
		for k, v := range params {
			out[k] = v
		}
		return out
	}
}

func TestPortContract(t *testing.T) {
	reachable := func(t *testing.T, h *fault.Host) {
		if err := dial(testDest); err != nil {
			t.Errorf("connect to %s after recover: %v", testDest, err)
		}
	}
	faulttest.Run(t, exhaust.PortID,
		faulttest.Case{
			Name:  "all",
			Setup: portSetup(map[string]string{"reserve": "0"}),
			Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
				if err := dial(testDest); !errors.Is(err, syscall.EADDRNOTAVAIL) {
					t.Errorf("connect to %s under port.exhaust: %v, want EADDRNOTAVAIL", testDest, err)
				}
				if err := dial(testOtherDest); err != nil {
					t.Errorf("connect to another destination %s: %v, want it to work", testOtherDest, err)
				}
			},
			Gone: reachable,
		},
		faulttest.Case{
			Name:  "default-reserve",
			Setup: portSetup(nil),
			Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
				// 5 % of 200 ports stay free: 10 connects still work, the
				// 11th fails.
				var held []net.Conn
				defer func() {
					for _, c := range held {
						_ = c.(*net.TCPConn).SetLinger(0)
						c.Close()
					}
				}()
				for i := range 11 {
					c, err := net.Dial("tcp", testDest)
					if i < 10 && err != nil {
						t.Fatalf("connect #%d inside the reserve: %v", i+1, err)
					}
					if i == 10 {
						if !errors.Is(err, syscall.EADDRNOTAVAIL) {
							t.Errorf("connect #11 beyond the reserve: %v, want EADDRNOTAVAIL", err)
						}
						break
					}
					held = append(held, c)
				}
			},
			Gone: reachable,
		},
	)
}

func TestPortBadInput(t *testing.T) {
	testutil.Require(t, "root")
	h := fault.DefaultHost(t.TempDir())
	for _, tc := range []struct {
		name   string
		params map[string]string
		param  string
	}{
		{"no destination", map[string]string{}, "destination"},
		{"a name", map[string]string{"destination": "localhost:80"}, "destination"},
		{"no port", map[string]string{"destination": "127.0.0.1"}, "destination"},
		{"port 0", map[string]string{"destination": "127.0.0.1:0"}, "destination"},
		{"unspecified", map[string]string{"destination": "0.0.0.0:80"}, "destination"},
		{"ssh", map[string]string{"destination": "10.1.2.3:22"}, "destination"},
		{"count and percent", map[string]string{"destination": "127.0.0.1:80", "count": "10", "percent": "10"}, "percent"},
		{"bad reserve", map[string]string{"destination": "127.0.0.1:80", "reserve": "lots"}, "reserve"},
		{"reserve all", map[string]string{"destination": "127.0.0.1:80", "reserve": "100%"}, "reserve"},
		{"count into the reserve", map[string]string{"destination": "127.0.0.1:80", "count": "65535"}, "count"},
		{"percent into the reserve", map[string]string{"destination": "127.0.0.1:80", "percent": "99"}, "percent"},
		{"host-wide and a destination", map[string]string{"destination": "127.0.0.1:80", "host-wide": "true"}, "host-wide"},
		{"host-wide reserve 0", map[string]string{"host-wide": "true", "reserve": "0"}, "reserve"},
		{"host-wide reserve below the minimum", map[string]string{"host-wide": "true", "reserve": "15"}, "reserve"},
		{"host-wide count into the reserve", map[string]string{"host-wide": "true", "count": "65535"}, "count"},
	} {
		t.Run(tc.name, func(t *testing.T) { assertParamError(t, h, exhaust.PortID, tc.params, tc.param) })
	}
	t.Run("more than the helper can hold", func(t *testing.T) {
		var rl unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
			t.Fatal(err)
		}
		if hasCapSysResource(t) || rl.Max > 30000 {
			t.Skipf("the helper could hold the whole range here (hard RLIMIT_NOFILE %d, CAP_SYS_RESOURCE %v)", rl.Max, hasCapSysResource(t))
		}
		b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
		var lo, hi int
		if _, err := fmt.Sscan(string(b), &lo, &hi); err != nil || hi-lo+1 < int(rl.Max)+100 {
			t.Skipf("the port range %q fits the helper's %d fds", b, rl.Max)
		}
		assertParamError(t, h, exhaust.PortID, map[string]string{"destination": "127.0.0.1:80", "count": fmt.Sprint(rl.Max)}, "count")
	})
}
