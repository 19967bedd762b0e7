//go:build linux

package netfault_test

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/bulwarkhq/bulwark/internal/fault/netfault"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
	"github.com/bulwarkhq/bulwark/internal/testutil"
	"github.com/bulwarkhq/bulwark/internal/vmtest"
)

// TestNetemInVM runs the TestNetem* tests inside a VM booted from Debian's
// kernel, which has sch_netem (this machine's kernel does not).
func TestNetemInVM(t *testing.T) {
	testutil.Slow(t) // vmtest.Run skips inside the VM
	vmtest.Run(t, vmtest.Options{Run: "^TestNetem[A-Z]", Modules: vmtest.NetworkModules})
}

// TestLossInVM runs the net.loss tests inside the VM, where net.loss uses
// netem instead of its nftables fallback.
func TestLossInVM(t *testing.T) {
	testutil.Slow(t) // vmtest.Run skips inside the VM
	vmtest.Run(t, vmtest.Options{Run: "^TestLoss[A-Z]", Modules: vmtest.NetworkModules})
}

// requireNetem skips t where the kernel has no netem (outside the VM, as
// a rule); under CI=true only TestNetemInVM may fail for a missing harness.
func requireNetem(t *testing.T) {
	t.Helper()
	if ok, how := netfault.NetemAvailable(); !ok {
		t.Skipf("no netem on this kernel (%s); TestNetemInVM runs this test in a VM", how)
	}
}

// rtts sends n UDP pings from ns to the peer's echo on addr, one at a
// time, and returns the round trips sorted.
func (p *pair) rtts(t *testing.T, addr string, n int) []time.Duration {
	t.Helper()
	var c net.Conn
	if err := p.ns.Do(func() (err error) { c, err = net.Dial("udp", addr); return err }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []time.Duration
	buf := make([]byte, 64)
	for i := range n {
		msg := []byte("ping " + strconv.Itoa(i))
		t0 := time.Now()
		_ = c.SetDeadline(t0.Add(2 * time.Second))
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		for {
			k, err := c.Read(buf)
			if err != nil {
				t.Fatalf("ping %d: %v", i, err)
			}
			if string(buf[:k]) == string(msg) {
				break
			}
		}
		out = append(out, time.Since(t0))
	}
	slices.Sort(out)
	return out
}

func pct(ds []time.Duration, q float64) time.Duration { return ds[int(q*float64(len(ds)-1))] }

// TestNetemDelay measures the round trip to the peer with net.delay and,
// as the baseline of the same run, with a bare netem qdisc of the same
// delay at the root (no bulwark): the median grows by the delay, and
// bulwark's class adds at most 1 ms (+1 % for noise) to what bare netem gives. Under the
// VM's software emulation bare netem itself overshoots by a few ms (timer
// latency), so the request alone is not the reference. The emulated VM
// also stalls when the host is busy (CI runs other suites beside it), which
// only ever lengthens round trips: a comparison that fails the upper bound
// is measured again, up to three rounds, while the lower bound must hold in
// every round.
func TestNetemDelay(t *testing.T) {
	requireNetem(t)
	for _, d := range []time.Duration{10 * time.Millisecond, 100 * time.Millisecond} {
		t.Run(d.String(), func(t *testing.T) {
			p := newPair(t)
			p.peer.ListenUDP(t, peer4+":7")
			m := openManager(t, newHost(t, p.ns))
			for round := 1; ; round++ {
				added, bareAdded := measureDelay(t, p, m, d)
				if added < d-time.Millisecond/2 {
					t.Fatalf("median round trip grew by %v, less than the requested %v", added, d)
				}
				// 1 ms, plus 1 % for the run-to-run noise of two medians of 40
				// in an emulated VM (they differ by up to 1.5 ms at 100 ms).
				limit := max(bareAdded, d) + time.Millisecond + d/100
				if added <= limit {
					return
				}
				if round == 3 {
					t.Fatalf("median round trip grew by %v, more than bare netem's %v (or the request) + 1ms + 1%%, in %d rounds", added, bareAdded, round)
				}
				t.Logf("round %d: +%v over the limit %v; measuring again", round, added, limit)
			}
		})
	}
}

// measureDelay returns how much net.delay d and a bare netem qdisc of d add
// to the median round trip to the peer, each measured against a baseline
// taken just before.
func measureDelay(t *testing.T, p *pair, m *hostmgr.Manager, d time.Duration) (added, bareAdded time.Duration) {
	t.Helper()
	base := pct(p.rtts(t, peer4+":7", 20), 0.5)
	bare := p.bareNetem(t, d, 40)
	f := injectKind(t, m, "net.delay", map[string]string{"delay": d.String(), "destination": peer4, "protocol": "udp"}, time.Minute)
	got := p.rtts(t, peer4+":7", 40)
	recoverFault(t, m, f.ID)
	added, bareAdded = pct(got, 0.5)-base, pct(bare, 0.5)-base
	t.Logf("delay %v: base p50 %v; bare netem +%v (p99 %v); net.delay +%v (p99 %v)", d, base, bareAdded, pct(bare, 0.99), added, pct(got, 0.99))
	return added, bareAdded
}

// bareNetem measures n round trips through a netem qdisc of delay d at the
// root of the pair's link, set and removed directly over netlink.
func (p *pair) bareNetem(t *testing.T, d time.Duration, n int) []time.Duration {
	t.Helper()
	h := p.handle(t)
	q := netlink.NewNetem(netlink.QdiscAttrs{LinkIndex: p.linkIndex(t), Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT},
		netlink.NetemQdiscAttrs{Latency: uint32(d.Microseconds())})
	if err := h.QdiscAdd(q); err != nil {
		t.Fatal(err)
	}
	got := p.rtts(t, peer4+":7", n)
	if err := h.QdiscDel(q); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestNetemDelayJitter checks that --jitter spreads the delay within
// ±jitter of it.
func TestNetemDelayJitter(t *testing.T) {
	requireNetem(t)
	p := newPair(t)
	p.peer.ListenUDP(t, peer4+":7")
	m := openManager(t, newHost(t, p.ns))
	f := injectKind(t, m, "net.delay", map[string]string{"delay": "100ms", "jitter": "10ms", "destination": peer4}, time.Minute)
	got := p.rtts(t, peer4+":7", 40)
	recoverFault(t, m, f.ID)
	q1, mid, q3 := pct(got, 0.25), pct(got, 0.5), pct(got, 0.75)
	t.Logf("100ms ± 10ms: min %v p25 %v p50 %v p75 %v max %v", got[0], q1, mid, q3, got[len(got)-1])
	// Nothing comes back sooner than delay - jitter; the late side is
	// only loosely bounded, because a VM without KVM stalls now and then.
	if got[0] < 89*time.Millisecond || mid < 95*time.Millisecond || mid > 110*time.Millisecond || q3-q1 < 4*time.Millisecond {
		t.Errorf("round trips min %v p25 %v p50 %v p75 %v: want none under 90ms, a median of 95..110ms and a spread (p75-p25) of 4ms or more", got[0], q1, mid, q3)
	}
}

// counted sends n numbered datagrams from ns to a counting sink in the
// peer, which reads them as they come, and returns how many arrived intact
// (duplicates included) and how many arrived after a higher-numbered one.
func (p *pair) counted(t *testing.T, port string, n int, gap time.Duration) (intact, late int) {
	t.Helper()
	var pc net.PacketConn
	if err := p.peer.Do(func() (err error) { pc, err = net.ListenPacket("udp", peer4+":"+port); return err }); err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if raw, err := pc.(*net.UDPConn).SyscallConn(); err == nil {
		_ = raw.Control(func(fd uintptr) { _ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 16<<20) })
	}
	type result struct{ intact, late int }
	done := make(chan result)
	go func() {
		var r result
		buf := make([]byte, 2000)
		highest := -1
		for {
			_ = pc.SetReadDeadline(time.Now().Add(time.Second))
			k, _, err := pc.ReadFrom(buf)
			if err != nil {
				done <- r
				return
			}
			i := int(binary.BigEndian.Uint32(buf))
			ok := k == 1000
			for j := 4; ok && j < k; j++ {
				ok = buf[j] == byte(i+j)
			}
			if ok {
				r.intact++
			}
			if i < highest {
				r.late++
			}
			highest = max(highest, i)
		}
	}()
	var c net.Conn
	if err := p.ns.Do(func() (err error) { c, err = net.Dial("udp", peer4+":"+port); return err }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 1000)
	for i := range n {
		binary.BigEndian.PutUint32(msg, uint32(i))
		for j := 4; j < len(msg); j++ {
			msg[j] = byte(i + j)
		}
		_, _ = c.Write(msg)
		if gap > 0 {
			time.Sleep(gap)
		} else if i%20 == 19 {
			time.Sleep(time.Millisecond) // let the sink keep up
		}
	}
	r := <-done
	return r.intact, r.late
}

// binomialOK says whether k of n is within 5 standard deviations of n·p.
func binomialOK(k, n int, p float64) bool {
	sd := math.Sqrt(float64(n) * p * (1 - p))
	return math.Abs(float64(k)-float64(n)*p) <= 5*sd
}

// TestNetemDuplicate sends 1000 datagrams through a 30 % duplication.
func TestNetemDuplicate(t *testing.T) {
	requireNetem(t)
	p := newPair(t)
	m := openManager(t, newHost(t, p.ns))
	f := injectKind(t, m, "net.duplicate", map[string]string{"percent": "30", "destination": peer4, "port": "9100", "protocol": "udp"}, time.Minute)
	got, _ := p.counted(t, "9100", 1000, 0)
	recoverFault(t, m, f.ID)
	t.Logf("1000 sent, %d received", got)
	if !binomialOK(got-1000, 1000, 0.3) {
		t.Errorf("%d extra datagrams of 1000, want about 300", got-1000)
	}
}

// TestNetemCorrupt sends 1000 datagrams through a 30 % corruption: a
// flipped bit fails a checksum (dropped) or changes the payload.
func TestNetemCorrupt(t *testing.T) {
	requireNetem(t)
	p := newPair(t)
	m := openManager(t, newHost(t, p.ns))
	f := injectKind(t, m, "net.corrupt", map[string]string{"percent": "30", "destination": peer4, "port": "9101", "protocol": "udp"}, time.Minute)
	got, _ := p.counted(t, "9101", 1000, 0)
	recoverFault(t, m, f.ID)
	t.Logf("1000 sent, %d intact", got)
	if !binomialOK(1000-got, 1000, 0.3) {
		t.Errorf("%d of 1000 datagrams damaged or lost, want about 300", 1000-got)
	}
}

// TestNetemReorder sends 200 datagrams 1 ms apart through a 30 %
// reordering with the others held 10 ms: many arrive after later ones,
// where none did before.
func TestNetemReorder(t *testing.T) {
	requireNetem(t)
	p := newPair(t)
	if _, late := p.counted(t, "9102", 100, time.Millisecond); late != 0 {
		t.Fatalf("%d datagrams out of order without a fault", late)
	}
	m := openManager(t, newHost(t, p.ns))
	f := injectKind(t, m, "net.reorder", map[string]string{"percent": "30", "delay": "10ms", "destination": peer4, "port": "9102", "protocol": "udp"}, time.Minute)
	got, late := p.counted(t, "9102", 200, time.Millisecond)
	recoverFault(t, m, f.ID)
	t.Logf("200 sent, %d received, %d after a later one", got, late)
	if late < 20 {
		t.Errorf("only %d of 200 datagrams overtaken, want many (about 30%% are sent at once)", late)
	}
}

// TestNetemUnavailableWithout checks the other side: where netem is
// missing, the netem kinds say so instead of half-working.
func TestNetemUnavailableWithout(t *testing.T) {
	if ok, _ := netfault.NetemAvailable(); ok {
		t.Skip("this kernel has netem")
	}
	p := newPair(t)
	m := openManager(t, newHost(t, p.ns))
	_, err := m.Inject(t.Context(), specOf("net.delay", map[string]string{"delay": "10ms", "destination": peer4}))
	if err == nil {
		t.Fatal("net.delay injected on a kernel without netem")
	}
	t.Logf("refused: %v", err)
	if _, err := m.Inject(t.Context(), specOf("net.loss", map[string]string{"percent": "10", "mechanism": "netem", "destination": peer4})); err == nil {
		t.Error("net.loss --mechanism netem injected on a kernel without netem")
	}
	f := injectKind(t, m, "net.loss", map[string]string{"percent": "10", "destination": peer4}, time.Minute)
	if ev := evidenceText(f); !strings.Contains(ev, "no netem on this kernel") || !strings.Contains(ev, "nftables random drop") {
		t.Errorf("net.loss without netem: evidence does not say it falls back to nftables because netem is missing:\n%s", ev)
	}
	recoverFault(t, m, f.ID)
}

// TestNetemLoss sends 1000 datagrams through net.loss at 30 %, which uses
// netem where the kernel has it, and says so.
func TestNetemLoss(t *testing.T) {
	requireNetem(t)
	p := newPair(t)
	m := openManager(t, newHost(t, p.ns))
	f := injectKind(t, m, "net.loss", map[string]string{"percent": "30", "correlation": "0", "destination": peer4, "port": "9103", "protocol": "udp"}, time.Minute)
	if !strings.Contains(evidenceText(f), "netem loss") {
		t.Errorf("evidence does not say netem drops:\n%s", evidenceText(f))
	}
	got, _ := p.counted(t, "9103", 1000, 0)
	recoverFault(t, m, f.ID)
	t.Logf("1000 sent, %d received", got)
	if !binomialOK(1000-got, 1000, 0.3) {
		t.Errorf("%d of 1000 datagrams lost, want about 300", 1000-got)
	}
}

// TestNetemDelayDistribution checks that --distribution changes the shape
// of the delay: with a normal jitter of 10 ms about a third of the round
// trips fall more than 10 ms from the median (none would with uniform ±10
// ms); pareto's tail is long on the slow side.
func TestNetemDelayDistribution(t *testing.T) {
	requireNetem(t)
	p := newPair(t)
	p.peer.ListenUDP(t, peer4+":7")
	m := openManager(t, newHost(t, p.ns))
	shape := func(dist string) []time.Duration {
		f := injectKind(t, m, "net.delay", map[string]string{"delay": "50ms", "jitter": "10ms", "distribution": dist, "destination": peer4}, time.Minute)
		defer recoverFault(t, m, f.ID)
		return p.rtts(t, peer4+":7", 80)
	}
	normal := shape("normal")
	mid := pct(normal, 0.5)
	out := 0
	for _, d := range normal {
		if d < mid-10*time.Millisecond || d > mid+10*time.Millisecond {
			out++
		}
	}
	t.Logf("normal: p10 %v p50 %v p90 %v; %d of %d more than 10ms from the median", pct(normal, 0.1), mid, pct(normal, 0.9), out, len(normal))
	if out < 10 || out > 45 {
		t.Errorf("normal jitter: %d of %d round trips more than 10ms from the median, want about a third", out, len(normal))
	}
	pareto := shape("pareto")
	lo, md, hi := pct(pareto, 0.1), pct(pareto, 0.5), pct(pareto, 0.9)
	t.Logf("pareto: p10 %v p50 %v p90 %v", lo, md, hi)
	if hi-md <= md-lo {
		t.Errorf("pareto jitter: p90-p50 %v is not longer than p50-p10 %v", hi-md, md-lo)
	}
}
