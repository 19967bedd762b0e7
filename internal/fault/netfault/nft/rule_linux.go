//go:build linux

package nft

import (
	"encoding/binary"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Expression builders. Each returns the expressions of one match or verdict;
// NewRule joins them. All matches load into register 1.

// NewRule joins matches and verdicts into one rule.
func NewRule(parts ...[]expr.Any) Rule {
	var r Rule
	for _, p := range parts {
		r.Exprs = append(r.Exprs, p...)
	}
	return r
}

// NFProto matches IPv4 (v6 false) or IPv6 packets: "meta nfproto ipv4".
func NFProto(v6 bool) []expr.Any {
	p := byte(unix.NFPROTO_IPV4)
	if v6 {
		p = unix.NFPROTO_IPV6
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{p}},
	}
}

// AddrInSet matches the source (src) or destination address against a named
// set: "ip daddr @set". Use it after NFProto of the same family.
func AddrInSet(v6, src bool, set string) []expr.Any {
	off, n := uint32(16), uint32(4)
	switch {
	case v6 && src:
		off, n = 8, 16
	case v6:
		off, n = 24, 16
	case src:
		off = 12
	}
	return []expr.Any{
		&expr.Payload{OperationType: expr.PayloadLoad, DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n},
		&expr.Lookup{SourceRegister: 1, SetName: set},
	}
}

// L4Proto matches a transport protocol: "meta l4proto tcp".
func L4Proto(proto byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
	}
}

// PortIn matches the source (src) or destination transport port against an
// inclusive range: "th dport 8080" or "th dport 8000-8100". Use it after
// L4Proto of tcp or udp.
func PortIn(src bool, first, last uint16) []expr.Any {
	load := portLoad(src)
	if first == last {
		return []expr.Any{load, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: be16(first)}}
	}
	return []expr.Any{load, &expr.Range{Op: expr.CmpOpEq, Register: 1, FromData: be16(first), ToData: be16(last)}}
}

// PortInSet matches the source (src) or destination transport port against
// a named set of ports: "th sport @set".
func PortInSet(src bool, set string) []expr.Any {
	return []expr.Any{portLoad(src), &expr.Lookup{SourceRegister: 1, SetName: set}}
}

func portLoad(src bool) *expr.Payload {
	off := uint32(2)
	if src {
		off = 0
	}
	return &expr.Payload{OperationType: expr.PayloadLoad, DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: off, Len: 2}
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// Counter counts the packets and bytes that reach it.
func Counter() []expr.Any { return []expr.Any{&expr.Counter{}} }

// Accept ends evaluation of the chain with accept.
func Accept() []expr.Any { return []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}} }

// Drop drops the packet.
func Drop() []expr.Any { return []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}} }

// RejectTCPReset drops the packet and answers with a TCP reset. Use it after
// L4Proto(tcp).
func RejectTCPReset() []expr.Any {
	return []expr.Any{&expr.Reject{Type: unix.NFT_REJECT_TCP_RST}}
}

// RejectICMPX drops the packet and answers with an ICMP or ICMPv6
// destination-unreachable of the family-independent code (unix.NFT_REJECT_ICMPX_*).
func RejectICMPX(code uint8) []expr.Any {
	return []expr.Any{&expr.Reject{Type: unix.NFT_REJECT_ICMPX_UNREACH, Code: code}}
}

// TCPFlagSet matches TCP packets with the flag bit set ("tcp flags & rst
// != 0"). Use it after L4Proto(tcp).
func TCPFlagSet(flag byte) []expr.Any {
	return []expr.Any{
		&expr.Payload{OperationType: expr.PayloadLoad, DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 13, Len: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 1, Mask: []byte{flag}, Xor: []byte{0}},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{0}},
	}
}

// ICMPType matches the type of an ICMP or ICMPv6 message ("icmp type 3").
// Use it after L4Proto(icmp) or L4Proto(ipv6-icmp).
func ICMPType(typ byte) []expr.Any {
	return []expr.Any{
		&expr.Payload{OperationType: expr.PayloadLoad, DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{typ}},
	}
}

// RandomBelow matches a packet with probability n/modulus: a random number
// in [0, modulus) is drawn for each packet and compared with n ("numgen
// random mod 10000 < 3000"). The kernel stores the number in host byte order
// and compares registers bytewise, so it is turned to network order first,
// as nft does.
func RandomBelow(modulus, n uint32) []expr.Any {
	return []expr.Any{
		&expr.Numgen{Register: 1, Modulus: modulus, Type: unix.NFT_NG_RANDOM},
		&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
		&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: binary.BigEndian.AppendUint32(nil, n)},
	}
}

// FromLoopback matches packets that arrived on a loopback link, which is
// how every packet a host sends to itself arrives ("meta iiftype loopback").
func FromLoopback() []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFTYPE, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.NativeEndian.AppendUint16(nil, unix.ARPHRD_LOOPBACK)},
	}
}

// OutIf matches packets leaving through the interface with the given index
// ("meta oif 3"). Indexes are per namespace and change when an interface is
// re-created, which is what a fault on one interface wants.
func OutIf(index int) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyOIF, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.NativeEndian.AppendUint32(nil, uint32(index))},
	}
}

// SetPriority sets the packet's skb->priority ("meta priority set
// b0b:2"); a classful root qdisc whose handle is the value's major puts
// the packet into the class it names.
func SetPriority(classid uint32) []expr.Any {
	return []expr.Any{
		&expr.Immediate{Register: 1, Data: binary.NativeEndian.AppendUint32(nil, classid)},
		&expr.Meta{Key: expr.MetaKeyPRIORITY, SourceRegister: true, Register: 1},
	}
}
