package proxy_test

import (
	"io"
	"net"
	"slices"
	"testing"
	"time"
)

// BenchmarkThroughput writes bulk data to a discarding server directly and
// through the proxy (no fault); compare the two MB/s figures, or read the
// ratio bench/proxy prints.
func BenchmarkThroughput(b *testing.B) {
	sink := mustServe(b, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	_, proxied := mustProxy(b, sink)
	buf := make([]byte, 256<<10)
	for _, tc := range []struct{ name, addr string }{{"direct", sink}, {"proxy", proxied}} {
		b.Run(tc.name, func(b *testing.B) {
			c := mustDial(b, tc.addr)
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLatency measures 1-byte round trips to an echo server, directly
// and through the proxy (no fault), and reports p50 and p99.
func BenchmarkLatency(b *testing.B) {
	up := mustServe(b, echo)
	_, proxied := mustProxy(b, up)
	for _, tc := range []struct{ name, addr string }{{"direct", up}, {"proxy", proxied}} {
		b.Run(tc.name, func(b *testing.B) {
			c := mustDial(b, tc.addr)
			one := []byte{1}
			var ds []time.Duration
			for b.Loop() {
				start := time.Now()
				if _, err := c.Write(one); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, one); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(start))
			}
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(ds[len(ds)*99/100].Nanoseconds())/1e3, "p99-µs")
		})
	}
}
