//go:build linux

package nft

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Render returns an nft-like text of a rule's expressions ("meta nfproto
// ipv4 ip daddr @dst4 meta l4proto tcp th dport 8080 counter drop"). It
// depends only on what the expressions mean, never on batch ids or counter
// values, so a rule built here and the same rule read back from the kernel
// render the same; an expression it does not know renders by its Go type,
// which never equals a known one.
func Render(exprs []expr.Any) string {
	r := renderer{regs: map[uint32]loaded{}}
	for _, e := range exprs {
		r.add(e)
	}
	return strings.Join(r.parts, " ")
}

type loaded struct {
	name string
	kind valueKind
}

type valueKind int

const (
	rawValue valueKind = iota
	nfprotoValue
	l4protoValue
	portValue
	addrValue
	uint32Value
	iftypeValue
	ifindexValue
)

type renderer struct {
	regs  map[uint32]loaded
	parts []string
	v6    bool
}

func (r *renderer) add(e expr.Any) {
	switch e := e.(type) {
	case *expr.Meta:
		r.meta(e)
	case *expr.Payload:
		r.payload(e)
	case *expr.Cmp:
		l := r.regs[e.Register]
		text := r.value(l.kind, e.Data)
		if l.kind == nfprotoValue {
			r.v6 = len(e.Data) == 1 && e.Data[0] == unix.NFPROTO_IPV6
		}
		r.parts = append(r.parts, l.name+cmpOp(e.Op)+text)
	case *expr.Range:
		l := r.regs[e.Register]
		r.parts = append(r.parts, l.name+cmpOp(e.Op)+r.value(l.kind, e.FromData)+"-"+r.value(l.kind, e.ToData))
	case *expr.Bitwise:
		l := r.regs[e.SourceRegister]
		r.regs[e.DestRegister] = loaded{fmt.Sprintf("%s & 0x%x ^ 0x%x", l.name, e.Mask, e.Xor), rawValue}
	case *expr.Lookup:
		op := " @"
		if e.Invert {
			op = " != @"
		}
		r.parts = append(r.parts, r.regs[e.SourceRegister].name+op+e.SetName)
	case *expr.Numgen:
		r.regs[e.Register] = loaded{numgenText(e), uint32Value}
	case *expr.Byteorder:
		r.byteorder(e)
	case *expr.Immediate:
		r.regs[e.Register] = loaded{immediateText(e.Data), rawValue}
	case *expr.Counter:
		r.parts = append(r.parts, "counter")
	case *expr.Verdict:
		r.parts = append(r.parts, verdictText(e))
	case *expr.Reject:
		r.parts = append(r.parts, rejectText(e))
	default:
		r.parts = append(r.parts, fmt.Sprintf("<%T>", e))
	}
}

func (r *renderer) meta(e *expr.Meta) {
	if e.SourceRegister {
		v := r.regs[e.Register].name
		if e.Key == expr.MetaKeyPRIORITY {
			r.parts = append(r.parts, "meta priority set "+v)
			return
		}
		r.parts = append(r.parts, fmt.Sprintf("meta set key%d %s", e.Key, v))
		return
	}
	switch e.Key {
	case expr.MetaKeyNFPROTO:
		r.regs[e.Register] = loaded{"meta nfproto", nfprotoValue}
	case expr.MetaKeyL4PROTO:
		r.regs[e.Register] = loaded{"meta l4proto", l4protoValue}
	case expr.MetaKeyIIFTYPE:
		r.regs[e.Register] = loaded{"meta iiftype", iftypeValue}
	case expr.MetaKeyOIF:
		r.regs[e.Register] = loaded{"meta oif", ifindexValue}
	default:
		r.regs[e.Register] = loaded{fmt.Sprintf("meta key%d", e.Key), rawValue}
	}
}

func (r *renderer) payload(e *expr.Payload) {
	if e.OperationType != expr.PayloadLoad {
		r.parts = append(r.parts, fmt.Sprintf("payload write base%d %d/%d", e.Base, e.Offset, e.Len))
		return
	}
	l := loaded{fmt.Sprintf("payload base%d %d/%d", e.Base, e.Offset, e.Len), rawValue}
	ip := "ip"
	if r.v6 {
		ip = "ip6"
	}
	switch {
	case e.Base == expr.PayloadBaseNetworkHeader && !r.v6 && e.Len == 4 && e.Offset == 12,
		e.Base == expr.PayloadBaseNetworkHeader && r.v6 && e.Len == 16 && e.Offset == 8:
		l = loaded{ip + " saddr", addrValue}
	case e.Base == expr.PayloadBaseNetworkHeader && !r.v6 && e.Len == 4 && e.Offset == 16,
		e.Base == expr.PayloadBaseNetworkHeader && r.v6 && e.Len == 16 && e.Offset == 24:
		l = loaded{ip + " daddr", addrValue}
	case e.Base == expr.PayloadBaseTransportHeader && e.Len == 2 && e.Offset == 0:
		l = loaded{"th sport", portValue}
	case e.Base == expr.PayloadBaseTransportHeader && e.Len == 2 && e.Offset == 2:
		l = loaded{"th dport", portValue}
	case e.Base == expr.PayloadBaseTransportHeader && e.Len == 1 && e.Offset == 13:
		l = loaded{"tcp flags", rawValue}
	case e.Base == expr.PayloadBaseTransportHeader && e.Len == 1 && e.Offset == 0:
		l = loaded{"th type", rawValue}
	}
	r.regs[e.DestRegister] = l
}

func (r *renderer) value(k valueKind, b []byte) string {
	switch {
	case k == nfprotoValue && len(b) == 1 && b[0] == unix.NFPROTO_IPV4:
		return "ipv4"
	case k == nfprotoValue && len(b) == 1 && b[0] == unix.NFPROTO_IPV6:
		return "ipv6"
	case k == l4protoValue && len(b) == 1:
		return protoName(b[0])
	case k == portValue && len(b) == 2:
		return strconv.Itoa(int(binary.BigEndian.Uint16(b)))
	case k == iftypeValue && len(b) == 2 && binary.NativeEndian.Uint16(b) == unix.ARPHRD_LOOPBACK:
		return "loopback"
	case k == ifindexValue && len(b) == 4:
		return strconv.FormatUint(uint64(binary.NativeEndian.Uint32(b)), 10)
	case k == uint32Value && len(b) == 4:
		return strconv.FormatUint(uint64(binary.BigEndian.Uint32(b)), 10)
	case k == addrValue && (len(b) == 4 || len(b) == 16):
		a, _ := netip.AddrFromSlice(b)
		return a.String()
	}
	return "0x" + hex.EncodeToString(b)
}

// immediateText renders a 32-bit immediate as the tc class id it is in
// "meta priority set b0b:2" (host byte order, major:minor in hex); other
// sizes in hex.
func immediateText(b []byte) string {
	if len(b) == 4 {
		v := binary.NativeEndian.Uint32(b)
		return fmt.Sprintf("%x:%x", v>>16, v&0xffff)
	}
	return "0x" + hex.EncodeToString(b)
}

// numgenText is the nft text of a number generator: "numgen random mod
// 10000", with "offset N" when there is one.
func numgenText(e *expr.Numgen) string {
	typ := fmt.Sprintf("type%d", e.Type)
	switch e.Type {
	case unix.NFT_NG_RANDOM:
		typ = "random"
	case unix.NFT_NG_INCREMENTAL:
		typ = "inc"
	}
	text := fmt.Sprintf("numgen %s mod %d", typ, e.Modulus)
	if e.Offset != 0 {
		text += fmt.Sprintf(" offset %d", e.Offset)
	}
	return text
}

// byteorder renders a conversion to network order of a 32-bit number in
// place as nothing: nft shows "numgen random mod 10000 < 3000" for it too.
// google/nftables v0.3.0 cannot decode byteorder expressions, so a rule read
// back lacks them; rendering the conversion as nothing keeps a rule built
// here and the same rule read back equal, and leaves the conversion to be
// proved by the rule's effect (its counters), not by the read-back. Any
// other conversion keeps its operation in the text.
func (r *renderer) byteorder(e *expr.Byteorder) {
	l := r.regs[e.SourceRegister]
	if e.Op == expr.ByteorderHton && e.Size == 4 && e.Len == 4 && e.SourceRegister == e.DestRegister && l.kind == uint32Value {
		return
	}
	r.regs[e.DestRegister] = loaded{fmt.Sprintf("byteorder(%s, op %d, len %d, size %d)", l.name, e.Op, e.Len, e.Size), rawValue}
}

func protoName(p byte) string {
	switch p {
	case unix.IPPROTO_TCP:
		return "tcp"
	case unix.IPPROTO_UDP:
		return "udp"
	case unix.IPPROTO_ICMP:
		return "icmp"
	case unix.IPPROTO_ICMPV6:
		return "ipv6-icmp"
	}
	return strconv.Itoa(int(p))
}

func cmpOp(op expr.CmpOp) string {
	switch op {
	case expr.CmpOpEq:
		return " "
	case expr.CmpOpNeq:
		return " != "
	case expr.CmpOpLt:
		return " < "
	case expr.CmpOpLte:
		return " <= "
	case expr.CmpOpGt:
		return " > "
	case expr.CmpOpGte:
		return " >= "
	}
	return fmt.Sprintf(" op%d ", op)
}

func verdictText(v *expr.Verdict) string {
	switch v.Kind {
	case expr.VerdictAccept:
		return "accept"
	case expr.VerdictDrop:
		return "drop"
	case expr.VerdictReturn:
		return "return"
	case expr.VerdictJump:
		return "jump " + v.Chain
	case expr.VerdictGoto:
		return "goto " + v.Chain
	case expr.VerdictContinue:
		return "continue"
	}
	return fmt.Sprintf("verdict%d", v.Kind)
}

var icmpxCodes = map[uint8]string{
	unix.NFT_REJECT_ICMPX_NO_ROUTE:         "no-route",
	unix.NFT_REJECT_ICMPX_PORT_UNREACH:     "port-unreachable",
	unix.NFT_REJECT_ICMPX_HOST_UNREACH:     "host-unreachable",
	unix.NFT_REJECT_ICMPX_ADMIN_PROHIBITED: "admin-prohibited",
}

func rejectText(e *expr.Reject) string {
	switch e.Type {
	case unix.NFT_REJECT_TCP_RST:
		return "reject with tcp reset"
	case unix.NFT_REJECT_ICMPX_UNREACH:
		if name, ok := icmpxCodes[e.Code]; ok {
			return "reject with icmpx " + name
		}
		return fmt.Sprintf("reject with icmpx code %d", e.Code)
	}
	return fmt.Sprintf("reject type %d code %d", e.Type, e.Code)
}
