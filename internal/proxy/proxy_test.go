package proxy_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/proxy"
)

func TestEchoPassThrough(t *testing.T) {
	t.Parallel()
	up := mustServe(t, echo)
	_, addr := mustProxy(t, up)
	c := mustDial(t, addr)
	payload := make([]byte, 4<<20)
	_, _ = rand.Read(payload)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(payload)
		if err == nil {
			err = c.CloseWrite()
		}
		errc <- err
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("echo returned %d bytes, want %d identical", len(got), len(payload))
	}
}

func TestHalfClose(t *testing.T) {
	t.Parallel()
	// The server reads until EOF, then answers: it only works when the
	// client's FIN is propagated while the other direction stays open.
	up := mustServe(t, func(c net.Conn) {
		b, _ := io.ReadAll(c)
		_, _ = c.Write([]byte("got " + string(b)))
	})
	for _, framed := range []bool{false, true} {
		p, addr := mustProxy(t, up)
		if framed {
			if err := p.AddFault(proxy.Fault{ID: "s", Type: proxy.Slow, Percent: 100, Delay: time.Millisecond}); err != nil {
				t.Fatal(err)
			}
		}
		c := mustDial(t, addr)
		_, _ = c.Write([]byte("hello"))
		_ = c.CloseWrite()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(c)
		if err != nil || string(got) != "got hello" {
			t.Fatalf("framed=%v: got %q, %v", framed, got, err)
		}
	}
}

func TestLiveConnectionSwitchesPaths(t *testing.T) {
	t.Parallel()
	up := mustServe(t, echo)
	p, addr := mustProxy(t, up)
	const delay = 400 * time.Millisecond // far above scheduling noise on a loaded CI box
	c := mustDial(t, addr)
	if _, d := roundTrip(t, c, "ping"); d >= delay {
		t.Fatalf("fast path round trip took %v", d)
	}
	if err := p.AddFault(proxy.Fault{ID: "slow", Type: proxy.Slow, Percent: 100, Delay: delay}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, d := roundTrip(t, c, "ping")
		if got != "ping" || d < delay {
			t.Fatalf("with fault: got %q after %v, want ping after >= %v", got, d, delay)
		}
	}
	if err := p.RemoveFault("slow"); err != nil {
		t.Fatal(err)
	}
	if _, d := roundTrip(t, c, "pong"); d >= delay {
		t.Fatalf("after removal round trip took %v", d)
	}
	if _, d := roundTrip(t, c, "pong"); d >= delay {
		t.Fatalf("back on the fast path round trip took %v", d)
	}
}

func TestManyConcurrentConnections(t *testing.T) {
	t.Parallel()
	up := mustServe(t, echo)
	p, addr := mustProxy(t, up)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			msg := bytes.Repeat([]byte{byte(i)}, 1000)
			if _, err := c.Write(msg); err != nil {
				errs <- err
				return
			}
			buf := make([]byte, len(msg))
			if _, err := io.ReadFull(c, buf); err != nil || !bytes.Equal(buf, msg) {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return p.Conns() == 0 })
}

func TestMaxConnsBound(t *testing.T) {
	t.Parallel()
	up := mustServe(t, echo)
	p, addr := mustProxy(t, up, func(c *proxy.Config) { c.MaxConns = 3 })
	for range 3 {
		roundTrip(t, mustDial(t, addr), "x")
	}
	// Over the bound: reset at once, seen on connect or on the first read.
	if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err == nil {
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("connection over MaxConns was served")
		}
	}
	if p.Conns() != 3 {
		t.Fatalf("Conns() = %d, want 3", p.Conns())
	}
}

func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
