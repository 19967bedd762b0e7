//go:build linux

package nft

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// State is a table as read back from the kernel.
type State struct {
	Family nftables.TableFamily
	Name   string
	Sets   []SetState
	Chains []ChainState
}

// SetState is a set as read back.
type SetState struct {
	Name       string
	Key        KeyType
	Interval   bool
	Constant   bool
	HasTimeout bool
	Elements   []Element
}

// Element is one kernel set element. Timeout is its timeout and Expires
// what is left of it; both are zero for an element that never expires.
type Element struct {
	Key     []byte
	End     bool
	Timeout time.Duration
	Expires time.Duration
}

// ChainState is a chain as read back.
type ChainState struct {
	Name     string
	Base     bool
	Hook     nftables.ChainHook
	Priority nftables.ChainPriority
	Type     nftables.ChainType
	Accept   bool
	Rules    []RuleState
}

// RuleState is a rule as read back: its handle, its Render text and its
// last counter, if it has one. Counted holds the packets of every counter in
// the rule, in order: a rule that counts before and after a random match
// ("counter numgen ... counter drop") tells how many packets it saw and how
// many it dropped.
type RuleState struct {
	Handle  uint64
	Text    string
	Packets uint64
	Bytes   uint64
	Counted []uint64
}

// Read dumps the table back. It returns nil and no error when there is no
// such table.
func (c *Conn) Read(family nftables.TableFamily, name string) (*State, error) {
	ok, err := c.Exists(family, name)
	if err != nil || !ok {
		return nil, err
	}
	tbl := &nftables.Table{Family: family, Name: name}
	st := &State{Family: family, Name: name}
	if st.Sets, err = c.readSets(tbl); err != nil {
		return nil, err
	}
	if st.Chains, err = c.readChains(tbl); err != nil {
		return nil, err
	}
	return st, nil
}

func (c *Conn) readSets(tbl *nftables.Table) ([]SetState, error) {
	sets, err := c.nc.GetSets(tbl)
	if err != nil {
		return nil, fmt.Errorf("list sets of %s: %w", tbl.Name, explain(err))
	}
	var out []SetState
	for _, s := range sets {
		s.Table = tbl
		elems, err := c.nc.GetSetElements(s)
		if err != nil {
			return nil, fmt.Errorf("list elements of set %s: %w", s.Name, explain(err))
		}
		ss := SetState{Name: s.Name, Key: keyTypeOf(s.KeyType), Interval: s.Interval, Constant: s.Constant, HasTimeout: s.HasTimeout}
		for _, e := range elems {
			ss.Elements = append(ss.Elements, Element{Key: e.Key, End: e.IntervalEnd, Timeout: e.Timeout, Expires: e.Expires})
		}
		sortElements(ss.Elements)
		out = append(out, ss)
	}
	slices.SortFunc(out, func(a, b SetState) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func keyTypeOf(t nftables.SetDatatype) KeyType {
	for _, k := range []KeyType{KeyIPv4, KeyIPv6, KeyPort} {
		dt := k.datatype()
		if dt.GetNFTMagic() == t.GetNFTMagic() {
			return k
		}
	}
	return 0
}

func (c *Conn) readChains(tbl *nftables.Table) ([]ChainState, error) {
	chains, err := c.nc.ListChainsOfTableFamily(tbl.Family)
	if err != nil {
		return nil, fmt.Errorf("list chains: %w", explain(err))
	}
	var out []ChainState
	for _, ch := range chains {
		if ch.Table.Name != tbl.Name {
			continue
		}
		cs := ChainState{Name: ch.Name, Type: ch.Type, Base: ch.Hooknum != nil && ch.Priority != nil}
		if cs.Base {
			cs.Hook, cs.Priority = *ch.Hooknum, *ch.Priority
		}
		cs.Accept = ch.Policy == nil || *ch.Policy == nftables.ChainPolicyAccept
		rules, err := c.nc.GetRules(tbl, ch)
		if err != nil {
			return nil, fmt.Errorf("list rules of chain %s: %w", ch.Name, explain(err))
		}
		for _, r := range rules {
			rs := RuleState{Handle: r.Handle, Text: Render(r.Exprs)}
			for _, e := range r.Exprs {
				if ctr, ok := e.(*expr.Counter); ok {
					rs.Packets, rs.Bytes = ctr.Packets, ctr.Bytes
					rs.Counted = append(rs.Counted, ctr.Packets)
				}
			}
			cs.Rules = append(cs.Rules, rs)
		}
		out = append(out, cs)
	}
	slices.SortFunc(out, func(a, b ChainState) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// RuleHandles returns the handles of the rules in each of the table's chains,
// in order: a cheaper read than Read when that is all a caller needs.
func (c *Conn) RuleHandles(t *Table) (map[string][]uint64, error) {
	tbl := &nftables.Table{Family: t.Family, Name: t.Name}
	out := map[string][]uint64{}
	for _, ch := range t.Chains {
		rules, err := c.nc.GetRules(tbl, &nftables.Chain{Name: ch.Name, Table: tbl})
		if err != nil {
			return nil, fmt.Errorf("list rules of chain %s: %w", ch.Name, explain(err))
		}
		for _, r := range rules {
			out[ch.Name] = append(out[ch.Name], r.Handle)
		}
	}
	return out, nil
}

func sortElements(es []Element) {
	slices.SortFunc(es, func(a, b Element) int {
		if c := bytes.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		// At the same key an end comes first: a range ends where the next starts.
		switch {
		case a.End == b.End:
			return 0
		case a.End:
			return -1
		}
		return 1
	})
}

// ElementRanges turns a set's read-back elements back into the text of the
// ranges they hold ("127.0.0.1", "10.0.0.0/8", "80").
func (s SetState) ElementRanges() []string {
	var out []string
	if s.Key == KeyPort {
		for _, e := range s.Elements {
			out = append(out, renderValue(portValue, e.Key))
		}
		return out
	}
	var open *netip.Addr
	closeAt := func(last netip.Addr) {
		out = append(out, AddrRange{*open, last}.String())
		open = nil
	}
	for _, e := range s.Elements {
		a, ok := netip.AddrFromSlice(e.Key)
		if !ok {
			out = append(out, "0x"+fmt.Sprintf("%x", e.Key))
			continue
		}
		switch {
		case !s.Interval:
			out = append(out, a.String())
		case e.End && open != nil:
			closeAt(a.Prev())
		case !e.End:
			if open != nil { // the previous range ran to a start
				closeAt(a.Prev())
			}
			open = &a
		}
	}
	if open != nil {
		last := lastOf(netip.PrefixFrom(*open, 0))
		closeAt(last)
	}
	return out
}

func renderValue(k valueKind, b []byte) string {
	r := renderer{}
	return r.value(k, b)
}
