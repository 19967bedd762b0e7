//go:build linux

package netfault_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/internal/nstest"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
)

// pair is a namespace the faults act in (ns) joined by a veth pair to a
// peer namespace, with IPv4 10.88.0.1/24 ↔ 10.88.0.2/24 and IPv6
// fd88::1/64 ↔ fd88::2/64 (no duplicate address detection).
type pair struct {
	ns, peer *nstest.NS
	link     string // ns's end
}

const (
	peer4 = "10.88.0.2"
	peer6 = "fd88::2"
)

func newPair(t testing.TB) *pair {
	t.Helper()
	nstest.Require(t)
	p := &pair{ns: nstest.New(t), peer: nstest.New(t)}
	nstest.Veth(t, p.ns, p.peer, "10.88.0.1/24", "10.88.0.2/24")
	for _, e := range []struct {
		ns   *nstest.NS
		cidr string
	}{{p.ns, "fd88::1/64"}, {p.peer, "fd88::2/64"}} {
		h, err := netlink.NewHandleAt(netns.NsHandle(e.ns.FD))
		if err != nil {
			t.Fatal(err)
		}
		links, err := h.LinkList()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range links {
			if l.Type() != "veth" {
				continue
			}
			if e.ns == p.ns {
				p.link = l.Attrs().Name
			}
			a, _ := netlink.ParseAddr(e.cidr)
			a.Flags = unix.IFA_F_NODAD
			if err := h.AddrAdd(l, a); err != nil {
				t.Fatal(err)
			}
		}
		h.Close()
	}
	return p
}

// sink accepts TCP connections (or receives UDP datagrams) in the peer on
// addr and counts the bytes.
type sink struct{ n atomic.Int64 }

func (p *pair) tcpSink(t *testing.T, addr string) *sink {
	t.Helper()
	s := &sink{}
	var l net.Listener
	if err := p.peer.Do(func() (err error) { l, err = net.Listen("tcp", addr); return err }); err != nil {
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
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					s.n.Add(int64(n))
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return s
}

func (p *pair) udpSink(t testing.TB, addr string) *sink {
	t.Helper()
	s := &sink{}
	var pc net.PacketConn
	if err := p.peer.Do(func() (err error) { pc, err = net.ListenPacket("udp", addr); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			s.n.Add(int64(n))
		}
	}()
	return s
}

// rate sends from ns to addr over network as fast as it can for warm plus
// window and returns the bytes per second the sink received in the window.
func (p *pair) rate(t *testing.T, s *sink, network, addr string, warm, window time.Duration) float64 {
	t.Helper()
	return p.rateFrom(t, s, network, addr, 0, warm, window)
}

// rateFrom is rate from a given local port (0 for any).
func (p *pair) rateFrom(t *testing.T, s *sink, network, addr string, port int, warm, window time.Duration) float64 {
	t.Helper()
	var c net.Conn
	d := net.Dialer{Timeout: 2 * time.Second}
	if port != 0 && network == "tcp" {
		d.LocalAddr = &net.TCPAddr{Port: port}
	} else if port != 0 {
		d.LocalAddr = &net.UDPAddr{Port: port}
	}
	if err := p.ns.Do(func() (err error) { c, err = d.Dial(network, addr); return err }); err != nil {
		t.Fatalf("dial %s %s: %v", network, addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1200) // one datagram, or a TCP write
		for ctx.Err() == nil {
			_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			if _, err := c.Write(buf); err != nil && !errors.Is(err, unix.ENOBUFS) && !errors.Is(err, unix.ECONNREFUSED) && !isTimeout(err) {
				return
			}
		}
	}()
	time.Sleep(warm)
	n0, t0 := s.n.Load(), time.Now()
	time.Sleep(window)
	n1, t1 := s.n.Load(), time.Now()
	cancel()
	<-done
	c.Close()
	return float64(n1-n0) / t1.Sub(t0).Seconds()
}

// injectKind injects a fault of any kind and checks it is active with
// passing evidence.
func injectKind(t testing.TB, m *hostmgr.Manager, kind string, params map[string]string, d time.Duration) *bulwark.Fault {
	t.Helper()
	f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: kind, Params: params, Duration: bulwark.Duration(d)})
	if err != nil {
		t.Fatalf("inject %s %v: %v", kind, params, err)
	}
	if f.State != bulwark.StateActive {
		t.Fatalf("inject %s %v: state %s", kind, params, f.State)
	}
	for _, e := range f.Evidence {
		if !e.OK {
			t.Fatalf("inject %s %v: failing evidence %+v", kind, params, e)
		}
	}
	return f
}

func (p *pair) handle(t *testing.T) *netlink.Handle {
	t.Helper()
	h, err := netlink.NewHandleAt(netns.NsHandle(p.ns.FD))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func (p *pair) linkIndex(t *testing.T) int {
	t.Helper()
	l, err := p.handle(t).LinkByName(p.link)
	if err != nil {
		t.Fatal(err)
	}
	return l.Attrs().Index
}

// settle waits (bounded) until the link is running with its IPv6
// link-local address out of duplicate address detection and a local route
// for each IPv6 address, which the kernel adds a moment after the link
// comes up: a snapshot taken before would count them as residue.
func (p *pair) settle(t *testing.T) {
	t.Helper()
	h := p.handle(t)
	for range 300 {
		if p.settled(t, h) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s did not settle (running, IPv6 addresses with local routes) within 3s", p.link)
}

func (p *pair) settled(t *testing.T, h *netlink.Handle) bool {
	l, err := h.LinkByName(p.link)
	if err != nil {
		t.Fatal(err)
	}
	addrs, _ := h.AddrList(l, netlink.FAMILY_V6)
	if l.Attrs().RawFlags&unix.IFF_RUNNING == 0 || len(addrs) < 2 {
		return false
	}
	routes, _ := h.RouteListFiltered(netlink.FAMILY_V6, &netlink.Route{Table: unix.RT_TABLE_LOCAL}, netlink.RT_FILTER_TABLE)
	for _, a := range addrs {
		if a.Flags&unix.IFA_F_TENTATIVE != 0 {
			return false
		}
		found := false
		for _, r := range routes {
			found = found || r.Dst != nil && r.Dst.IP.Equal(a.IP)
		}
		if !found {
			return false
		}
	}
	return true
}

func specOf(kind string, params map[string]string) bulwark.FaultSpec {
	return bulwark.FaultSpec{Kind: kind, Params: params, Duration: bulwark.Duration(time.Minute)}
}
