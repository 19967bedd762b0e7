//go:build linux

// Command proxy measures the fault proxy's pass-through cost on loopback
// (DESIGN §9): bulk throughput through the proxy against direct, added
// round-trip latency (p50/p99) with no fault, and goroutines and heap per
// idle connection with many open.
//
//	go run ./bench/proxy [-bytes 1073741824] [-rounds 20000] [-conns 10000]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/bulwarkhq/bulwark/internal/proxy"
)

func main() {
	total := flag.Int64("bytes", 1<<30, "bytes per throughput run")
	rounds := flag.Int("rounds", 20000, "round trips per latency run")
	conns := flag.Int("conns", 10000, "idle connections for the memory figure")
	flag.Parse()
	if err := run(*total, *rounds, *conns); err != nil {
		fmt.Fprintln(os.Stderr, "bench proxy:", err)
		os.Exit(1)
	}
}

func run(total int64, rounds, conns int) error {
	raiseNoFile()
	sink, stopSink, err := serve(func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	if err != nil {
		return err
	}
	defer stopSink()
	echo, stopEcho, err := serve(func(c net.Conn) { _, _ = io.Copy(c, c) })
	if err != nil {
		return err
	}
	defer stopEcho()
	p, err := newProxy(sink)
	if err != nil {
		return err
	}
	defer p.Close()
	pAddr, _ := p.Open(context.Background(), "127.0.0.1:0")
	q, err := newProxy(echo)
	if err != nil {
		return err
	}
	defer q.Close()
	qAddr, _ := q.Open(context.Background(), "127.0.0.1:0")

	rSink, stopR1, err := relay(sink)
	if err != nil {
		return err
	}
	defer stopR1()
	rEcho, stopR2, err := relay(echo)
	if err != nil {
		return err
	}
	defer stopR2()

	// Throughput: best of three alternating runs each way.
	var direct, proxied, relayed float64
	for range 3 {
		d, err := throughput(sink, total)
		if err != nil {
			return err
		}
		pr, err := throughput(pAddr.String(), total)
		if err != nil {
			return err
		}
		rr, err := throughput(rSink, total)
		if err != nil {
			return err
		}
		direct, proxied, relayed = max(direct, d), max(proxied, pr), max(relayed, rr)
	}
	fmt.Printf("throughput direct   %8.0f MB/s\n", direct/1e6)
	fmt.Printf("throughput relay    %8.0f MB/s (minimal splice relay)\n", relayed/1e6)
	fmt.Printf("throughput proxied  %8.0f MB/s\n", proxied/1e6)
	fmt.Printf("throughput ratio    %8.3f proxy/direct (target >= 0.90), %.3f proxy/relay\n", proxied/direct, proxied/relayed)

	dl, err := latency(echo, rounds)
	if err != nil {
		return err
	}
	pl, err := latency(qAddr.String(), rounds)
	if err != nil {
		return err
	}
	rl, err := latency(rEcho, rounds)
	if err != nil {
		return err
	}
	fmt.Printf("latency relay       p50 %6.1fµs p99 %6.1fµs (minimal splice relay)\n", us(rl[0]), us(rl[1]))
	fmt.Printf("latency direct      p50 %6.1fµs p99 %6.1fµs\n", us(dl[0]), us(dl[1]))
	fmt.Printf("latency proxied     p50 %6.1fµs p99 %6.1fµs\n", us(pl[0]), us(pl[1]))
	fmt.Printf("latency added       p50 %6.1fµs p99 %6.1fµs (target p99 <= 100µs)\n", us(pl[0]-dl[0]), us(pl[1]-dl[1]))

	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) == nil && uint64(conns)*4+256 > r.Cur {
		// Client, proxy (two) and server sockets live in this one process.
		fmt.Printf("idle connections    capped at %d by RLIMIT_NOFILE %d (4 descriptors each here)\n", (r.Cur-256)/4, r.Cur)
		conns = int((r.Cur - 256) / 4)
	}
	return idle(conns)
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func newProxy(upstream string) (*proxy.Proxy, error) {
	cfg := proxy.DefaultConfig()
	cfg.Resolve = proxy.Fixed(upstream)
	return proxy.New(cfg)
}

// serve runs handle per connection; stop closes the listener.
func serve(handle func(net.Conn)) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String(), func() { _ = ln.Close() }, nil
}

// relay is the baseline: a minimal splice relay (two io.Copy per
// connection, no fault machinery) in front of upstream.
func relay(upstream string) (string, func(), error) {
	return serve(func(c net.Conn) {
		u, err := net.Dial("tcp", upstream)
		if err != nil {
			return
		}
		defer u.Close()
		done := make(chan struct{})
		go func() {
			_, _ = io.Copy(u, c)
			_ = u.(*net.TCPConn).CloseWrite()
			close(done)
		}()
		_, _ = io.Copy(c, u)
		_ = c.(*net.TCPConn).CloseWrite()
		<-done
	})
}

// throughput writes total bytes to addr and returns bytes per second.
func throughput(addr string, total int64) (float64, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	buf := make([]byte, 256<<10)
	start := time.Now()
	for sent := int64(0); sent < total; {
		n, err := c.Write(buf)
		if err != nil {
			return 0, err
		}
		sent += int64(n)
	}
	_ = c.(*net.TCPConn).CloseWrite()
	_, _ = c.Read(make([]byte, 1)) // wait for the sink to finish
	return float64(total) / time.Since(start).Seconds(), nil
}

// latency returns p50 and p99 of 1-byte round trips to an echo at addr.
func latency(addr string, rounds int) ([2]time.Duration, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return [2]time.Duration{}, err
	}
	defer c.Close()
	b := []byte{1}
	ds := make([]time.Duration, 0, rounds)
	for i := range rounds + 1000 {
		start := time.Now()
		if _, err := c.Write(b); err != nil {
			return [2]time.Duration{}, err
		}
		if _, err := io.ReadFull(c, b); err != nil {
			return [2]time.Duration{}, err
		}
		if i >= 1000 { // warm-up excluded
			ds = append(ds, time.Since(start))
		}
	}
	slices.Sort(ds)
	return [2]time.Duration{ds[len(ds)/2], ds[len(ds)*99/100]}, nil
}

// idle opens n connections through a proxy to a server that holds them,
// and reports goroutines and heap per connection.
func idle(n int) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	held := make(chan net.Conn, n)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held <- c
		}
	}()
	p, err := newProxy(ln.Addr().String())
	if err != nil {
		return err
	}
	addr, err := p.Open(context.Background(), "127.0.0.1:0")
	if err != nil {
		return err
	}
	g0, h0 := settle()
	start := time.Now()
	clients := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range clients {
			_ = c.Close()
		}
	}()
	for len(clients) < n {
		c, err := net.Dial("tcp", addr.String())
		if err != nil {
			return fmt.Errorf("connection %d: %w", len(clients), err)
		}
		clients = append(clients, c)
	}
	for p.Conns() < n || len(held) < n {
		if time.Since(start) > time.Minute {
			return errors.New("connections did not settle within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
	opened := time.Since(start)
	g1, h1 := settle()
	fmt.Printf("idle connections    %d opened in %v\n", n, opened.Round(time.Millisecond))
	fmt.Printf("per connection      %.2f goroutines, %.1f KB heap (whole process: client, proxy and server sockets)\n",
		float64(g1-g0)/float64(n), float64(h1-h0)/float64(n)/1024)
	_ = p.Close()
	for len(held) > 0 {
		_ = (<-held).Close()
	}
	return nil
}

func settle() (goroutines int, heap uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), m.HeapAlloc
}

// raiseNoFile lifts the open-file soft limit to the hard limit.
func raiseNoFile() {
	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) != nil {
		return
	}
	want := r
	want.Cur, want.Max = max(r.Max, 1<<17), max(r.Max, 1<<17) // root may raise the hard limit
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) != nil && r.Cur < r.Max {
		r.Cur = r.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	}
}
