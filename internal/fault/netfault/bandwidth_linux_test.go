//go:build linux

package netfault_test

import (
	"testing"
	"time"
)

// frame is what htb charges for a full TCP segment of 1448 bytes over
// IPv4 with timestamps: 1448 + 32 (TCP) + 20 (IP) + 14 (Ethernet).
const tcpPayload, tcpFrame = 1448.0, 1514.0

// within fails t unless got is within tol (0.05 for 5 %) of want.
func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	t.Logf("%s: %.0f B/s, want %.0f ± %.0f%%", what, got, want, tol*100)
	if got < want*(1-tol) || got > want*(1+tol) {
		t.Errorf("%s: %.0f B/s is not within %.0f%% of %.0f B/s", what, got, tol*100, want)
	}
}

// TestBandwidthCapsTCP caps a TCP upload to the peer at 8mbit: the peer
// receives 1 MB/s of frames, less the headers, within 5 %.
func TestBandwidthCapsTCP(t *testing.T) {
	p := newPair(t)
	s := p.tcpSink(t, peer4+":9000")
	h := newHost(t, p.ns)
	m := openManager(t, h)
	free := p.rate(t, s, "tcp", peer4+":9000", 200*time.Millisecond, 500*time.Millisecond)
	f := injectKind(t, m, "net.bandwidth", map[string]string{"rate": "8mbit", "destination": peer4, "port": "9000", "protocol": "tcp"}, time.Minute)
	t.Log(evidenceText(f))
	within(t, "tcp through 8mbit", p.rate(t, s, "tcp", peer4+":9000", time.Second, 2*time.Second), 1e6*tcpPayload/tcpFrame, 0.05)
	recoverFault(t, m, f.ID)
	if after := p.rate(t, s, "tcp", peer4+":9000", 200*time.Millisecond, 500*time.Millisecond); after < 5e6 {
		t.Errorf("after recover the flow runs at %.0f B/s (before the fault %.0f): still capped", after, free)
	}
}
