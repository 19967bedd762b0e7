//go:build linux

package netfault

import (
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/nft"
)

// The names inside a fault's table.
const (
	chainEgress  = "egress"
	chainIngress = "ingress"
	setDst4      = "dst4"
	setDst6      = "dst6"
	setMgmt4     = "mgmt4"
	setMgmt6     = "mgmt6"
	setMgmtPorts = "mgmt_ports"
)

var everything = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}

// table builds the table a fault's receipt data describes. It is a pure
// function of the data, so a later process rebuilds exactly what Apply
// created; changing what it builds for the same data needs a new receipt
// version.
func (d *partitionV1) table() (*nft.Table, error) {
	t := &nft.Table{Family: nftables.TableFamilyINet, Name: d.Table}
	dst := d.Destinations
	if len(dst) == 0 {
		dst = everything
	}
	fams := splitFamilies(dst)
	mgmt := splitFamilies(d.ManagementNetworks)
	if len(d.ManagementPorts) > 0 {
		t.Sets = append(t.Sets, nft.Set{Name: setMgmtPorts, Key: nft.KeyPort, Constant: true, Ports: d.ManagementPorts})
	}
	for _, f := range []family{v4, v6} {
		if len(fams[f]) == 0 {
			continue
		}
		t.Sets = append(t.Sets, nft.Set{Name: f.dstSet(), Key: f.key(), Interval: true, Timeout: d.ElementTimeout.Std(), Prefixes: fams[f]})
		if len(mgmt[f]) > 0 {
			t.Sets = append(t.Sets, nft.Set{Name: f.mgmtSet(), Key: f.key(), Interval: true, Constant: true, Prefixes: mgmt[f]})
		}
	}
	port, err := d.portRange()
	if err != nil {
		return nil, err
	}
	sport, err := d.sourcePortRange()
	if err != nil {
		return nil, err
	}
	for _, ch := range d.chains() {
		ch.Rules = d.rules(ch.Name == chainIngress, fams, mgmt, port, sport)
		t.Chains = append(t.Chains, ch)
	}
	return t, nil
}

func (d *partitionV1) portRange() (bulwark.PortRange, error) {
	if d.Port == "" {
		return bulwark.PortRange{}, nil
	}
	return bulwark.ParsePortRange(d.Port)
}

func (d *partitionV1) sourcePortRange() (bulwark.PortRange, error) {
	if d.SourcePort == "" {
		return bulwark.PortRange{}, nil
	}
	return bulwark.ParsePortRange(d.SourcePort)
}

func (d *partitionV1) chains() []nft.Chain {
	if len(d.classify) > 0 {
		// After routing and every output filter, so that the packet's
		// interface is known and nothing later resets the priority.
		return []nft.Chain{{Name: chainEgress, Hook: *nftables.ChainHookPostrouting, Priority: *nftables.ChainPriorityFilter}}
	}
	var out []nft.Chain
	if d.Direction == DirEgress || d.Direction == DirBoth {
		out = append(out, nft.Chain{Name: chainEgress, Hook: *nftables.ChainHookOutput, Priority: *nftables.ChainPriorityFilter})
	}
	if d.Direction == DirIngress || d.Direction == DirBoth {
		out = append(out, nft.Chain{Name: chainIngress, Hook: *nftables.ChainHookInput, Priority: *nftables.ChainPriorityFilter})
	}
	return out
}

// rules returns one chain's rules: the management plane's accepts first,
// then the fault's counted verdicts. The remote address is the destination
// of packets leaving and the source of packets arriving; the port is always
// the destination port (the service port).
func (d *partitionV1) rules(ingress bool, fams, mgmt map[family][]netip.Prefix, port, sport bulwark.PortRange) []nft.Rule {
	var out []nft.Rule
	if len(d.ManagementPorts) > 0 {
		for _, src := range []bool{true, false} {
			out = append(out, nft.NewRule(nft.L4Proto(unix.IPPROTO_TCP), nft.PortInSet(src, setMgmtPorts), nft.Accept()))
		}
	}
	for _, f := range []family{v4, v6} {
		if len(fams[f]) > 0 && len(mgmt[f]) > 0 {
			out = append(out, nft.NewRule(nft.NFProto(f == v6), nft.AddrInSet(f == v6, ingress, f.mgmtSet()), nft.Accept()))
		}
	}
	if ingress && d.randomDrop > 0 && d.Direction == DirBoth {
		// A packet the host sends to itself passes egress, then ingress on
		// lo: draw for it once, on the way out.
		out = append(out, nft.NewRule(nft.FromLoopback(), nft.Accept()))
	}
	if d.Action == ActionReject && d.Direction == DirBoth {
		out = append(out, rejectAnswers(fams)...)
	}
	for _, f := range []family{v4, v6} {
		if len(fams[f]) == 0 {
			continue
		}
		for _, proto := range d.protocols(port, sport) {
			if proto == unix.IPPROTO_ICMP && f == v6 {
				proto = unix.IPPROTO_ICMPV6
			}
			r := nft.NewRule(nft.NFProto(f == v6), nft.AddrInSet(f == v6, ingress, f.dstSet()))
			if proto != 0 {
				r.Exprs = append(r.Exprs, nft.L4Proto(proto)...)
			}
			if !port.IsZero() {
				r.Exprs = append(r.Exprs, nft.PortIn(false, port.First, port.Last)...)
			}
			if !sport.IsZero() {
				r.Exprs = append(r.Exprs, nft.PortIn(true, sport.First, sport.Last)...)
			}
			if len(d.classify) > 0 {
				out = append(out, classifyRules(r, d.classify)...)
				continue
			}
			r.Exprs = append(r.Exprs, nft.Counter()...)
			if d.randomDrop > 0 {
				// Counted before and after the draw: what the rule saw and what it dropped.
				r.Exprs = append(r.Exprs, nft.RandomBelow(lossModulus, d.randomDrop)...)
				r.Exprs = append(r.Exprs, nft.Counter()...)
			}
			r.Exprs = append(r.Exprs, d.verdict(proto)...)
			out = append(out, r)
		}
	}
	return out
}

// classifyRules turns one match into a rule per interface that counts the
// packets leaving through it and sets their priority to its class.
func classifyRules(match nft.Rule, classes []ifClass) []nft.Rule {
	out := make([]nft.Rule, 0, len(classes))
	for _, c := range classes {
		out = append(out, nft.NewRule(match.Exprs, nft.OutIf(c.Index), nft.Counter(), nft.SetPriority(c.ClassID)))
	}
	return out
}

// rejectAnswers lets the kernel's own answers to rejected packets (a TCP
// reset, an ICMP destination-unreachable) through the other direction's
// chain: an answer to a rejected arriving packet leaves for a cut address,
// and an answer to a rejected leaving packet arrives, locally, from one.
// Without these rules a peer would see a timeout instead of a refusal.
// Such answers carry no data, so letting every reset and unreachable pass
// cuts nothing a partition means to cut.
func rejectAnswers(fams map[family][]netip.Prefix) []nft.Rule {
	out := []nft.Rule{nft.NewRule(nft.L4Proto(unix.IPPROTO_TCP), nft.TCPFlagSet(tcpRST), nft.Accept())}
	if len(fams[v4]) > 0 {
		out = append(out, nft.NewRule(nft.NFProto(false), nft.L4Proto(unix.IPPROTO_ICMP), nft.ICMPType(icmpDestUnreach), nft.Accept()))
	}
	if len(fams[v6]) > 0 {
		out = append(out, nft.NewRule(nft.NFProto(true), nft.L4Proto(unix.IPPROTO_ICMPV6), nft.ICMPType(icmpv6DestUnreach), nft.Accept()))
	}
	return out
}

// The packet fields rejectAnswers matches.
const (
	tcpRST            = 0x04
	icmpDestUnreach   = 3
	icmpv6DestUnreach = 1
)

// protocols lists the transport protocols the fault's rules match, 0 for
// any; with a port, all means tcp and udp. A reject of everything answers tcp with a reset, so tcp gets a rule
// of its own before the catch-all.
func (d *partitionV1) protocols(port, sport bulwark.PortRange) []byte {
	switch {
	case d.Protocol == ProtoTCP:
		return []byte{unix.IPPROTO_TCP}
	case d.Protocol == ProtoUDP:
		return []byte{unix.IPPROTO_UDP}
	case d.Protocol == ProtoICMP: // ICMPv6 in the IPv6 rules
		return []byte{unix.IPPROTO_ICMP}
	case !port.IsZero() || !sport.IsZero():
		return []byte{unix.IPPROTO_TCP, unix.IPPROTO_UDP}
	case d.Action == ActionReject:
		return []byte{unix.IPPROTO_TCP, 0}
	}
	return []byte{0}
}

// verdict is what a matched packet gets.
func (d *partitionV1) verdict(proto byte) []expr.Any {
	switch {
	case d.Action != ActionReject:
		return nft.Drop()
	case proto == unix.IPPROTO_TCP:
		return nft.RejectTCPReset()
	case proto == unix.IPPROTO_UDP:
		return nft.RejectICMPX(unix.NFT_REJECT_ICMPX_PORT_UNREACH)
	}
	return nft.RejectICMPX(unix.NFT_REJECT_ICMPX_ADMIN_PROHIBITED)
}

// family is an address family of the fault's sets.
type family int

const (
	v4 family = iota
	v6
)

func (f family) key() nft.KeyType {
	if f == v6 {
		return nft.KeyIPv6
	}
	return nft.KeyIPv4
}

func (f family) dstSet() string {
	if f == v6 {
		return setDst6
	}
	return setDst4
}

func (f family) mgmtSet() string {
	if f == v6 {
		return setMgmt6
	}
	return setMgmt4
}

// splitFamilies sorts prefixes by family. An IPv4-mapped IPv6 prefix stays
// IPv6: that is how it appears in packets.
func splitFamilies(ps []netip.Prefix) map[family][]netip.Prefix {
	out := map[family][]netip.Prefix{}
	for _, p := range ps {
		f := v4
		if p.Addr().Is6() {
			f = v6
		}
		out[f] = append(out[f], p)
	}
	return out
}
