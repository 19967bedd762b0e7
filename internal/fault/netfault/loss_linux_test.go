//go:build linux

package netfault_test

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/internal/nstest"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
)

const lossID = "net.loss"

var lossBadInput = []struct {
	name   string
	params map[string]string
	param  string
}{
	{"percent missing", map[string]string{"destination": "127.0.0.1"}, "percent"},
	{"percent zero", map[string]string{"percent": "0"}, "percent"},
	{"percent below a step", map[string]string{"percent": "0.004"}, "percent"},
	{"percent negative", map[string]string{"percent": "-5"}, "percent"},
	{"percent 101", map[string]string{"percent": "101"}, "percent"},
	{"percent word", map[string]string{"percent": "half"}, "percent"},
	{"shell metacharacters", map[string]string{"percent": "30", "destination": "127.0.0.1;rm -rf /"}, "destination"},
	{"command substitution", map[string]string{"percent": "30", "destination": "$(reboot)"}, "destination"},
	{"backticks in a list", map[string]string{"percent": "30", "destination": "10.0.0.1,`id`"}, "destination"},
	{"newline", map[string]string{"percent": "30", "destination": "10.0.0.1\nflush ruleset"}, "destination"},
	{"malformed host name", map[string]string{"percent": "30", "destination": "-db.example.com"}, "destination"},
	{"port zero", map[string]string{"percent": "30", "port": "0"}, "port"},
	{"icmp with a port", map[string]string{"percent": "30", "protocol": "icmp", "port": "80"}, "port"},
	{"protocol sctp", map[string]string{"percent": "30", "protocol": "sctp"}, "protocol"},
	{"direction", map[string]string{"percent": "30", "direction": "sideways"}, "direction"},
	{"action is partition's", map[string]string{"percent": "30", "action": "reject"}, "action"},
}

// TestLossBadInput refuses bad input with a ParamError naming the parameter,
// through Decode and through the manager, and changes nothing.
func TestLossBadInput(t *testing.T) {
	info := netfault.Loss{}.Info()
	for _, tt := range lossBadInput {
		_, err := fault.Decode(info, tt.params)
		var pe *fault.ParamError
		if !errors.As(err, &pe) || pe.Param != tt.param {
			t.Errorf("%s: Decode(%v) = %v, want a ParamError naming --%s", tt.name, tt.params, err, tt.param)
		}
	}
	nstest.Require(t)
	ns := nstest.New(t)
	h := newHost(t, ns)
	m := openManager(t, h)
	before := ns.Ruleset(t)
	for _, tt := range lossBadInput {
		_, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: lossID, Params: tt.params, Duration: bulwark.Duration(time.Minute)})
		var pe *fault.ParamError
		if !errors.As(err, &pe) || pe.Param != tt.param {
			t.Errorf("%s: Inject = %v, want a ParamError naming --%s", tt.name, err, tt.param)
		}
	}
	if fs, _ := m.Faults(context.Background(), bulwark.FaultFilter{}); len(fs) != 0 {
		t.Errorf("journal holds %d faults after bad input", len(fs))
	}
	if after := ns.Ruleset(t); after != before {
		t.Errorf("ruleset changed:\n%s\nwant:\n%s", after, before)
	}
}

func injectLoss(t testing.TB, m *hostmgr.Manager, params map[string]string) *bulwark.Fault {
	t.Helper()
	f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: lossID, Params: params, Duration: bulwark.Duration(time.Minute)})
	if err != nil {
		t.Fatalf("inject %v: %v", params, err)
	}
	if f.State != bulwark.StateActive {
		t.Fatalf("inject %v: state %s", params, f.State)
	}
	for _, e := range f.Evidence {
		if !e.OK {
			t.Fatalf("inject %v: failing evidence %+v", params, e)
		}
	}
	return f
}

// TestLossRate measures the loss of a UDP flow over a veth pair between two
// namespaces: 2000 datagrams at 30 % must lose 30 ± 5 % (the binomial's
// standard deviation is about 1 %), and the rules' own counters must agree
// with what arrived. After recover everything arrives.
func TestLossRate(t *testing.T) {
	nstest.Require(t)
	a, b := nstest.New(t), nstest.New(t)
	nstest.Veth(t, a, b, "10.99.7.1/24", "10.99.7.2/24")
	h := newHost(t, a)
	m := openManager(t, h)
	f := injectLoss(t, m, map[string]string{"percent": "30", "destination": "10.99.7.2", "port": "9000", "protocol": "udp", "mechanism": "nftables"})
	ev := evidenceText(f)
	t.Logf("evidence at inject:\n%s", ev)
	for _, want := range []string{"mechanism: nftables random drop (numgen random mod 10000 < 3000)", "drop 30% of udp packets leaving for 10.99.7.2, destination port 9000"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
	if !strings.Contains(ev, "nftables chosen by --mechanism") {
		t.Errorf("evidence does not say nftables was chosen:\n%s", ev)
	}
	const n = 2000
	got := udpBlast(t, a, b, "10.99.7.2:9000", n)
	loss := 100 * float64(n-got) / n
	t.Logf("--percent 30: %d of %d datagrams arrived, %.1f%% lost", got, n, loss)
	if math.Abs(loss-30) > 5 {
		t.Errorf("measured loss %.1f%%, want 30 ± 5%%", loss)
	}
	st := lossStatus(t, m, f.ID)
	if want := (n - got); !strings.Contains(st, "loss: "+itoa(want)+" of "+itoa(n)+" matching packets dropped so far") {
		t.Errorf("counters disagree with the %d datagrams lost:\n%s", want, st)
	}
	// Another port of the same peer is untouched.
	if got := udpBlast(t, a, b, "10.99.7.2:9001", 200); got != 200 {
		t.Errorf("port 9001: %d of 200 arrived, want all", got)
	}
	recoverFault(t, m, f.ID)
	if got := udpBlast(t, a, b, "10.99.7.2:9000", 200); got != 200 {
		t.Errorf("after recover %d of 200 arrived, want all", got)
	}
}

// TestLossAllButManagement drops 100 % of everything both ways, yet the
// management plane (a TCP port and a remote network) keeps working.
func TestLossAllButManagement(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	h := newHost(t, ns)
	h.Management.TCPPorts = []uint16{9100}
	h.Management.Networks = mustPrefixes(t, "127.0.0.2/32")
	m := openManager(t, h)
	ns.Listen(t, "127.0.0.1:9100")
	ns.Listen(t, "127.0.0.1:9101")
	f := injectLoss(t, m, map[string]string{"percent": "100", "direction": "both"})
	if got := udpBlast(t, ns, ns, "127.0.0.1:9000", 100); got != 0 {
		t.Errorf("--percent 100: %d of 100 datagrams to 127.0.0.1 arrived", got)
	}
	if got := udpBlast(t, ns, ns, "127.0.0.2:9000", 100); got != 100 {
		t.Errorf("management network: %d of 100 datagrams to 127.0.0.2 arrived, want all", got)
	}
	mustWork(t, ns, "127.0.0.1:9100")
	mustBeCut(t, ns, "127.0.0.1:9101", false)
	recoverFault(t, m, f.ID)
	mustWork(t, ns, "127.0.0.1:9101")
	if got := udpBlast(t, ns, ns, "127.0.0.1:9000", 100); got != 100 {
		t.Errorf("after recover %d of 100 arrived", got)
	}
}

// TestLossIPv6AndMulticast accepts IPv6 and multicast destinations: a UDP
// flow to ::1 is dropped, and so is a datagram sent to a multicast group
// (the sender sees the output hook's drop as EPERM).
func TestLossIPv6AndMulticast(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	addMulticastRoute(t, ns)
	h := newHost(t, ns)
	m := openManager(t, h)
	f := injectLoss(t, m, map[string]string{"percent": "100", "destination": "::1,224.0.0.0/4,ff00::/8", "protocol": "udp", "mechanism": "nftables"})
	ev := evidenceText(f)
	for _, want := range []string{"set dst4", "224.0.0.0/4", "set dst6", "::1", "ff00::/8"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
	if got := udpBlast(t, ns, ns, "[::1]:9000", 50); got != 0 {
		t.Errorf("::1: %d of 50 arrived", got)
	}
	if got := udpBlast(t, ns, ns, "127.0.0.1:9000", 50); got != 50 {
		t.Errorf("127.0.0.1 is not a destination: %d of 50 arrived", got)
	}
	if err := sendMulticast(ns); err == nil {
		t.Errorf("a datagram to 239.1.2.3 was sent through a 100%% loss")
	}
	recoverFault(t, m, f.ID)
	if got := udpBlast(t, ns, ns, "[::1]:9000", 50); got != 50 {
		t.Errorf("after recover ::1: %d of 50 arrived", got)
	}
	if err := sendMulticast(ns); err != nil {
		t.Errorf("after recover, multicast send: %v", err)
	}
}

// TestLossCompose runs two loss faults on different ports at once and
// recovers them one by one, each alone.
func TestLossCompose(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	h := newHost(t, ns)
	m := openManager(t, h)
	f1 := injectLoss(t, m, map[string]string{"percent": "100", "destination": "127.0.0.1", "port": "9000", "protocol": "udp"})
	f2 := injectLoss(t, m, map[string]string{"percent": "100", "destination": "127.0.0.1", "port": "9001", "protocol": "udp"})
	arrive := func(port string, want int) {
		t.Helper()
		if got := udpBlast(t, ns, ns, "127.0.0.1:"+port, 50); got != want {
			t.Errorf("port %s: %d of 50 arrived, want %d", port, got, want)
		}
	}
	arrive("9000", 0)
	arrive("9001", 0)
	arrive("9002", 50)
	recoverFault(t, m, f1.ID)
	arrive("9000", 50)
	arrive("9001", 0)
	lossStatus(t, m, f2.ID)
	recoverFault(t, m, f2.ID)
	arrive("9001", 50)
	if rs := ns.Ruleset(t); strings.Contains(rs, "bulwark_") {
		t.Errorf("tables left:\n%s", rs)
	}
}

// TestLossContract runs the kind contract suite in the sandbox.
func TestLossContract(t *testing.T) {
	faulttest.Run(t, lossID, faulttest.Case{
		Name: "udp port 9000 all lost",
		Setup: func(t *testing.T, h *fault.Host) map[string]string {
			return map[string]string{"percent": "100", "destination": "127.0.0.1", "port": "9000", "protocol": "udp"}
		},
		Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
			if got := udpBlastHere(t, "127.0.0.1:9000", 50); got != 0 {
				t.Errorf("%d of 50 arrived", got)
			}
			if got := udpBlastHere(t, "127.0.0.1:9001", 50); got != 50 {
				t.Errorf("port 9001: %d of 50 arrived", got)
			}
		},
		Gone: func(t *testing.T, h *fault.Host) {
			if got := udpBlastHere(t, "127.0.0.1:9000", 50); got != 50 {
				t.Errorf("%d of 50 arrived after recover", got)
			}
		},
	})
}

// udpBlast sends n numbered datagrams from namespace a to a receiver at addr
// in namespace b and returns how many distinct ones arrived. It sends in
// batches small enough for the receive buffer and waits for each batch to
// drain, so that only the fault loses datagrams, never the socket.
func udpBlast(t testing.TB, a, b *nstest.NS, addr string, n int) int {
	t.Helper()
	var rc net.PacketConn
	if err := b.Do(func() error {
		var err error
		rc, err = net.ListenPacket("udp", addr)
		return err
	}); err != nil {
		t.Fatalf("listen udp %s: %v", addr, err)
	}
	defer rc.Close()
	var got int
	err := a.Do(func() error {
		sc, err := net.Dial("udp", addr)
		if err != nil {
			return err
		}
		defer sc.Close()
		got = blast(sc, rc, n)
		return nil
	})
	if err != nil {
		t.Fatalf("send to %s: %v", addr, err)
	}
	return got
}

// udpBlastHere is udpBlast inside the current (sandbox) namespace.
func udpBlastHere(t testing.TB, addr string, n int) int {
	t.Helper()
	rc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	sc, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	return blast(sc, rc, n)
}

func blast(sc net.Conn, rc net.PacketConn, n int) int {
	const batch = 100
	seen := map[uint32]bool{}
	buf := make([]byte, 64)
	var mu sync.Mutex
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		for i := start; i < end; i++ {
			_, _ = sc.Write(binary.BigEndian.AppendUint32(nil, uint32(i))) // a drop on output is EPERM
		}
		// Drain: stop once the batch is in or nothing came for a while.
		for {
			mu.Lock()
			done := len(seen) >= end
			mu.Unlock()
			if done {
				break
			}
			_ = rc.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
			k, _, err := rc.ReadFrom(buf)
			if err != nil {
				break
			}
			if k == 4 {
				mu.Lock()
				seen[binary.BigEndian.Uint32(buf)] = true
				mu.Unlock()
			}
		}
	}
	return len(seen)
}

// addMulticastRoute routes 224.0.0.0/4 to lo, so that a multicast send has
// somewhere to go in a namespace that has only lo.
func addMulticastRoute(t *testing.T, ns *nstest.NS) {
	t.Helper()
	nh, err := netlink.NewHandleAt(netns.NsHandle(ns.FD))
	if err != nil {
		t.Fatal(err)
	}
	defer nh.Close()
	lo, err := nh.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := nh.LinkSetMulticastOn(lo); err != nil {
		t.Fatal(err)
	}
	_, dst, _ := net.ParseCIDR("224.0.0.0/4")
	if err := nh.RouteAdd(&netlink.Route{LinkIndex: lo.Attrs().Index, Dst: dst}); err != nil {
		t.Fatal(err)
	}
}

func sendMulticast(ns *nstest.NS) error {
	return ns.Do(func() error {
		c, err := net.Dial("udp", "239.1.2.3:9000")
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("tick"))
		return err
	})
}

func mustPrefixes(t *testing.T, ss ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// lossStatus runs net.loss's drift check on a live fault and returns its
// evidence as text.
func lossStatus(t testing.TB, m *hostmgr.Manager, id string) string {
	t.Helper()
	r, err := m.Receipt(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := netfault.Loss{}.Status(context.Background(), m.Host(), r)
	if err != nil {
		t.Fatalf("status of %s: %v", id, err)
	}
	return evidenceText(&bulwark.Fault{Evidence: ev})
}

// TestLossHostName resolves --destination localhost at inject (through the
// hosts file) and drops the flow to the addresses it had then.
func TestLossHostName(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	m := openManager(t, newHost(t, ns))
	f := injectLoss(t, m, map[string]string{"percent": "100", "destination": "localhost", "protocol": "udp", "port": "9000", "mechanism": "nftables"})
	if ev := evidenceText(f); !strings.Contains(ev, "localhost resolved to") || !strings.Contains(ev, "127.0.0.1") {
		t.Errorf("evidence does not say what localhost resolved to:\n%s", ev)
	}
	if got := udpBlast(t, ns, ns, "127.0.0.1:9000", 50); got != 0 {
		t.Errorf("127.0.0.1 (localhost): %d of 50 arrived", got)
	}
	recoverFault(t, m, f.ID)
}
