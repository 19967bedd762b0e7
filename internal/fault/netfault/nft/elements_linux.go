//go:build linux

package nft

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"

	"github.com/google/nftables"
)

// AddrRange is an inclusive range of addresses of one family.
type AddrRange struct{ First, Last netip.Addr }

// String returns the range as a prefix when it is one, as a bare address
// for a single host, and as "first-last" otherwise.
func (r AddrRange) String() string {
	if r.First == r.Last {
		return r.First.String()
	}
	for bits := r.First.BitLen() - 1; bits >= 0; bits-- {
		p := netip.PrefixFrom(r.First, bits)
		if p.Masked().Addr() != r.First {
			break
		}
		if lastOf(p) == r.Last {
			return p.String()
		}
	}
	return r.First.String() + "-" + r.Last.String()
}

// Ranges turns prefixes of one family into sorted ranges, merging those that
// overlap or touch, as an interval set needs them.
func Ranges(ps []netip.Prefix) []AddrRange {
	rs := make([]AddrRange, 0, len(ps))
	for _, p := range ps {
		p = p.Masked()
		rs = append(rs, AddrRange{p.Addr(), lastOf(p)})
	}
	slices.SortFunc(rs, func(a, b AddrRange) int { return a.First.Compare(b.First) })
	var out []AddrRange
	for _, r := range rs {
		if n := len(out); n > 0 {
			prev := &out[n-1]
			if next := prev.Last.Next(); !next.IsValid() || r.First.Compare(next) <= 0 {
				if r.Last.Compare(prev.Last) > 0 {
					prev.Last = r.Last
				}
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// lastOf returns the last address of a masked prefix.
func lastOf(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// elements returns the set's kernel elements. An interval set holds each
// range as a start element and, unless the range runs to the last address,
// an interval-end element at the address after it; only start elements
// carry the timeout (the kernel refuses one on an end element).
func (s Set) elements() ([]nftables.SetElement, error) {
	if s.Key == KeyPort {
		out := make([]nftables.SetElement, 0, len(s.Ports))
		for _, p := range s.Ports {
			out = append(out, nftables.SetElement{Key: binary.BigEndian.AppendUint16(nil, p), Timeout: s.Timeout})
		}
		return out, nil
	}
	for _, p := range s.Prefixes {
		if p.Addr().Is4() != (s.Key == KeyIPv4) {
			return nil, fmt.Errorf("set %s holds %s, not %s", s.Name, s.Key, p)
		}
	}
	if !s.Interval {
		out := make([]nftables.SetElement, 0, len(s.Prefixes))
		for _, p := range s.Prefixes {
			if !p.IsSingleIP() {
				return nil, fmt.Errorf("set %s: prefix %s needs an interval set", s.Name, p)
			}
			out = append(out, nftables.SetElement{Key: p.Addr().AsSlice(), Timeout: s.Timeout})
		}
		return out, nil
	}
	var out []nftables.SetElement
	for _, r := range Ranges(s.Prefixes) {
		out = append(out, nftables.SetElement{Key: r.First.AsSlice(), Timeout: s.Timeout})
		if next := r.Last.Next(); next.IsValid() {
			out = append(out, nftables.SetElement{Key: next.AsSlice(), IntervalEnd: true})
		}
	}
	return out, nil
}
