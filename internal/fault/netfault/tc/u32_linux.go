//go:build linux

package tc

import (
	"encoding/binary"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Flow is what an ingress fault redirects: packets arriving from Remote
// (empty: from anywhere, IPv4 and IPv6) with one of Protos (0: any; 1,
// icmp, means ICMPv6 for IPv6) and, when FirstPort is set, a destination
// port in FirstPort..LastPort and, when FirstSrcPort is set, a source
// port in FirstSrcPort..LastSrcPort (tcp and udp only).
type Flow struct {
	Remote                    []netip.Prefix
	Protos                    []uint8
	FirstPort, LastPort       uint16
	FirstSrcPort, LastSrcPort uint16
}

// u32Match is one u32 selector, for one IP family.
type u32Match struct {
	v6   bool
	keys []netlink.TcU32Key
}

// matches turns a flow into u32 selectors. They assume headers without IP
// options (IPv4) or extension headers (IPv6) in front of the ports, as tc's
// own "match ip dport" does.
func (f Flow) matches() []u32Match {
	remotes := f.Remote
	if len(remotes) == 0 {
		remotes = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
	}
	protos := f.Protos
	if len(protos) == 0 {
		protos = []uint8{0}
	}
	ports := [][2]uint16{{0, 0}}
	if f.FirstPort != 0 {
		ports = portBlocks(f.FirstPort, f.LastPort)
	}
	sports := [][2]uint16{{0, 0}}
	if f.FirstSrcPort != 0 {
		sports = portBlocks(f.FirstSrcPort, f.LastSrcPort)
	}
	var out []u32Match
	for _, r := range remotes {
		v6 := r.Addr().Is6()
		for _, p := range protos {
			for _, pb := range ports {
				for _, sb := range sports {
					out = append(out, match(r, v6, p, pb, sb))
				}
			}
		}
	}
	return out
}

// match is one selector: remote prefix, protocol, destination and source
// port blocks ({0, 0} for any).
func match(r netip.Prefix, v6 bool, p uint8, dport, sport [2]uint16) u32Match {
	m := u32Match{v6: v6, keys: srcKeys(r)}
	if p != 0 {
		m.keys = append(m.keys, protoKey(v6, p))
	}
	switch {
	case dport[1] != 0 && sport[1] != 0: // one word holds both ports
		d, s := portKey(v6, false, dport[0], dport[1]), portKey(v6, true, sport[0], sport[1])
		m.keys = append(m.keys, netlink.TcU32Key{Mask: d.Mask | s.Mask, Val: d.Val | s.Val, Off: d.Off})
	case dport[1] != 0:
		m.keys = append(m.keys, portKey(v6, false, dport[0], dport[1]))
	case sport[1] != 0:
		m.keys = append(m.keys, portKey(v6, true, sport[0], sport[1]))
	}
	if len(m.keys) == 0 { // u32 needs a key: match anything
		m.keys = []netlink.TcU32Key{{Mask: 0, Val: 0, Off: 0}}
	}
	return m
}

// srcKeys matches the source address against a prefix (none for /0).
func srcKeys(p netip.Prefix) []netlink.TcU32Key {
	a := p.Masked().Addr().AsSlice()
	off := int32(12)
	if p.Addr().Is6() {
		off = 8
	}
	var keys []netlink.TcU32Key
	for i := 0; i*32 < p.Bits(); i++ {
		bits := min(32, p.Bits()-i*32)
		mask := uint32(0xffffffff) << (32 - bits)
		keys = append(keys, netlink.TcU32Key{Mask: mask, Val: binary.BigEndian.Uint32(a[i*4:]) & mask, Off: off + int32(i*4)})
	}
	return keys
}

// protoKey matches the transport protocol (ICMP becomes ICMPv6 for IPv6).
func protoKey(v6 bool, p uint8) netlink.TcU32Key {
	if v6 {
		if p == unix.IPPROTO_ICMP {
			p = unix.IPPROTO_ICMPV6
		}
		return netlink.TcU32Key{Mask: 0x0000ff00, Val: uint32(p) << 8, Off: 4}
	}
	return netlink.TcU32Key{Mask: 0x00ff0000, Val: uint32(p) << 16, Off: 8}
}

// portKey matches the source (src) or destination port against an aligned
// block: value first, the block's size a power of two.
func portKey(v6, src bool, first, last uint16) netlink.TcU32Key {
	off := int32(20)
	if v6 {
		off = 40
	}
	mask := ^uint32(last - first)
	val := uint32(first)
	if src {
		return netlink.TcU32Key{Mask: (mask & 0xffff) << 16, Val: val << 16, Off: off}
	}
	return netlink.TcU32Key{Mask: mask & 0xffff, Val: val, Off: off}
}

// portBlocks splits first..last into aligned power-of-two blocks, each as
// its first and last port.
func portBlocks(first, last uint16) [][2]uint16 {
	var out [][2]uint16
	lo, hi := uint32(first), uint32(last)
	for lo <= hi {
		size := uint32(1)
		for lo&(size*2-1) == 0 && lo+size*2-1 <= hi && size < 1<<16 {
			size *= 2
		}
		out = append(out, [2]uint16{uint16(lo), uint16(lo + size - 1)})
		lo += size
	}
	return out
}

// u32Filter builds a filter with one selector and one action; a nil action
// means "pass": a class id and no action.
func u32Filter(link int, parent uint32, prio uint16, m u32Match, action netlink.Action) *netlink.U32 {
	proto := uint16(unix.ETH_P_IP)
	if m.v6 {
		proto = unix.ETH_P_IPV6
	}
	keys := make([]netlink.TcU32Key, len(m.keys))
	copy(keys, m.keys)
	f := &netlink.U32{
		FilterAttrs: netlink.FilterAttrs{LinkIndex: link, Parent: parent, Priority: prio, Protocol: proto},
		Sel:         &netlink.TcU32Sel{Flags: netlink.TC_U32_TERMINAL, Keys: keys},
	}
	if action == nil {
		f.ClassId = netlink.MakeHandle(0xffff, 1)
	} else {
		f.Actions = []netlink.Action{action}
	}
	return f
}
