package proxy_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/proxy"
)

// respServer answers Redis inline PING with +PONG and ECHO x with $x.
func respServer(c net.Conn) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch cmd := strings.TrimSpace(line); {
		case cmd == "PING":
			_, _ = c.Write([]byte("+PONG\r\n"))
		case strings.HasPrefix(cmd, "ECHO "):
			_, _ = fmt.Fprintf(c, "+%s\r\n", cmd[5:])
		default:
			_, _ = c.Write([]byte("-ERR unknown\r\n"))
		}
	}
}

func resp(tb testing.TB, c net.Conn, r *bufio.Reader, cmd string) (string, time.Duration) {
	tb.Helper()
	start := time.Now()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
		tb.Fatal(err)
	}
	line, err := r.ReadString('\n')
	if err != nil {
		tb.Fatal(err)
	}
	return line, time.Since(start)
}

func TestLineProtocol(t *testing.T) {
	t.Parallel()
	upstreams := map[string]string{"tiny": mustServe(t, respServer)}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:6379", 200*time.Millisecond); err == nil {
		_ = c.Close()
		upstreams["redis"] = "127.0.0.1:6379" // read-only PING against the real one
	}
	for name, up := range upstreams {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, addr := mustProxy(t, up, func(c *proxy.Config) { c.Framing = proxy.Delimited{Delim: []byte("\r\n")} })
			err := p.SetFaults([]proxy.Fault{
				{ID: "slow", Type: proxy.Slow, Percent: 100, Per: proxy.PerRequest, Delay: 300 * time.Millisecond},
				{ID: "err", Type: proxy.Error, Percent: 100, Per: proxy.PerRequest},
			})
			if err != nil {
				t.Fatal(err)
			}
			c := mustDial(t, addr)
			r := bufio.NewReader(c)
			if got, d := resp(t, c, r, "PING"); got == "+PONG\r\n" || len(got) != 7 || d < 300*time.Millisecond {
				t.Fatalf("faulted PING: %q after %v, want a corrupted 7-byte reply after >= 300ms", got, d)
			}
			if err := p.SetFaults(nil); err != nil {
				t.Fatal(err)
			}
			if got, d := resp(t, c, r, "PING"); got != "+PONG\r\n" || d >= 200*time.Millisecond { // well under the 300ms fault, with room for a loaded machine
				t.Fatalf("recovered PING: %q after %v", got, d)
			}
		})
	}
}

// frame encodes a 2-byte big-endian length-prefixed frame.
func frame(s string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(s)))
	return append(b, s...)
}

func readFrame(r io.Reader) (string, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return "", err
	}
	b := make([]byte, binary.BigEndian.Uint16(h[:]))
	_, err := io.ReadFull(r, b)
	return string(b), err
}

func TestLengthPrefixedHeartbeatsPassDataHeld(t *testing.T) {
	t.Parallel()
	// A feed: a heartbeat and a data frame every 10ms.
	up := mustServe(t, func(c net.Conn) {
		for i := 1; ; i++ {
			if _, err := c.Write(append(frame("HB"), frame(fmt.Sprintf("D%d", i))...)); err != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	p, addr := mustProxy(t, up, func(c *proxy.Config) {
		c.Framing = proxy.LengthPrefixed{HeaderSize: 2, Heartbeat: func(f []byte) bool { return string(f[2:]) == "HB" }}
	})
	if err := p.AddFault(proxy.Fault{ID: "h", Type: proxy.Hang, Percent: 100, Heartbeats: true, AfterFrames: 2}); err != nil {
		t.Fatal(err)
	}
	c := mustDial(t, addr)
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	var got []string
	for range 10 {
		f, err := readFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f)
	}
	// Two data frames pass (heartbeats do not count), then only heartbeats.
	want := "HB D1 HB D2 HB HB HB HB HB HB"
	if strings.Join(got, " ") != want {
		t.Fatalf("frames %v, want %s", got, want)
	}
	if err := p.RemoveFault("h"); err != nil {
		t.Fatal(err)
	}
	// The held data comes through, in order, without loss.
	next := 3
	for next < 8 {
		f, err := readFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		if f == "HB" {
			continue
		}
		if f != fmt.Sprintf("D%d", next) {
			t.Fatalf("got %s, want D%d", f, next)
		}
		next++
	}
}

func TestRawTruncateCorruptReset(t *testing.T) {
	t.Parallel()
	up := mustServe(t, echo)
	t.Run("truncate", func(t *testing.T) {
		p, addr := mustProxy(t, up)
		_ = p.AddFault(proxy.Fault{ID: "t", Type: proxy.Truncate, Percent: 100, Bytes: 10})
		c := mustDial(t, addr)
		_, _ = c.Write([]byte(strings.Repeat("a", 100)))
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		got, _ := io.ReadAll(c)
		if len(got) != 10 {
			t.Fatalf("got %d bytes, want 10", len(got))
		}
	})
	t.Run("reset existing", func(t *testing.T) {
		p, addr := mustProxy(t, up)
		c := mustDial(t, addr)
		roundTrip(t, c, "x")
		_ = p.AddFault(proxy.Fault{ID: "d", Type: proxy.Down, Percent: 100, ResetExisting: true})
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("existing connection not reset")
		}
	})
	t.Run("hang times out", func(t *testing.T) {
		p, addr := mustProxy(t, up)
		_ = p.AddFault(proxy.Fault{ID: "h", Type: proxy.Hang, Percent: 100, Timeout: 100 * time.Millisecond})
		start := time.Now() // the proxy's timer starts at accept
		c := mustDial(t, addr)
		_, _ = c.Write([]byte("x"))
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || time.Since(start) < 100*time.Millisecond {
			t.Fatalf("hang with timeout: %v after %v", err, time.Since(start))
		}
	})
	t.Run("rate", func(t *testing.T) {
		p, addr := mustProxy(t, up)
		_ = p.AddFault(proxy.Fault{ID: "r", Type: proxy.Slow, Percent: 100, Rate: 100 << 10})
		c := mustDial(t, addr)
		msg := strings.Repeat("r", 50<<10)
		// 50 KiB at 100 KiB/s with a 5 KiB burst: about 450ms.
		if _, d := roundTrip(t, c, msg); d < 350*time.Millisecond || d > 2*time.Second {
			t.Fatalf("50 KiB at 100 KiB/s took %v", d)
		}
	})
}
