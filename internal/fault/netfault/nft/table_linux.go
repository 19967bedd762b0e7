//go:build linux

package nft

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Table describes one table and everything in it.
type Table struct {
	Family nftables.TableFamily
	Name   string
	Sets   []Set
	Chains []Chain
}

// KeyType is what a set holds.
type KeyType int

// The set key types.
const (
	KeyIPv4 KeyType = iota + 1 // ipv4_addr
	KeyIPv6                    // ipv6_addr
	KeyPort                    // inet_service
)

// Set is a named set. Address sets hold Prefixes (as ranges when Interval
// is set, merged so that none overlap); port sets hold Ports.
type Set struct {
	Name     string
	Key      KeyType
	Interval bool
	Constant bool
	// Timeout, when positive, is every element's kernel-side timeout: the
	// elements vanish by themselves that long after the table is created.
	Timeout  time.Duration
	Prefixes []netip.Prefix
	Ports    []uint16
}

// Chain is a base chain of type filter with policy accept: a fault's chain
// only ever adds verdicts to traffic that its rules match.
type Chain struct {
	Name     string
	Hook     nftables.ChainHook
	Priority nftables.ChainPriority
	Rules    []Rule
}

// Rule is a list of expressions, built with the helpers in rule_linux.go.
type Rule struct {
	Exprs []expr.Any
}

// Create adds the table, its sets with their elements, its chains and their
// rules in one netlink batch: the kernel applies all of it or none. It fails
// if a table of that name already exists.
func (c *Conn) Create(t *Table) error {
	if err := c.queue(t, t.Name, true); err != nil {
		return err
	}
	if err := c.nc.Flush(); err != nil {
		return fmt.Errorf("create table %s %s: %w", FamilyName(t.Family), t.Name, explain(err))
	}
	return nil
}

// Probe asks the kernel whether it accepts t's sets, elements and rules,
// leaving nothing behind: it sends t under a random name, with its chains as
// regular chains, followed by the deletion of that table, in one batch that
// the kernel applies whole or not at all. The chains are not hooked, because
// registering and unregistering the first hook of a kind costs a global
// code patch (a static key) of milliseconds; the probe proves what can vary
// between kernels (set flags, element timeouts, expressions), not the hooks.
func (c *Conn) Probe(t *Table) error {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("name probe table: %w", err)
	}
	name := "bulwark_probe_" + hex.EncodeToString(b[:])
	if err := c.queue(t, name, false); err != nil {
		return err
	}
	c.nc.DelTable(&nftables.Table{Family: t.Family, Name: name})
	if err := c.nc.Flush(); err != nil {
		return fmt.Errorf("probe table %s: %w", FamilyName(t.Family), explain(err))
	}
	return nil
}

// Delete removes the table and everything in it. A missing table is not an
// error; existed says whether there was one.
func (c *Conn) Delete(family nftables.TableFamily, name string) (existed bool, err error) {
	c.nc.DelTable(&nftables.Table{Family: family, Name: name})
	err = c.nc.Flush()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.ENOENT):
		return false, nil
	}
	return false, fmt.Errorf("delete table %s %s: %w", FamilyName(family), name, explain(err))
}

// queue buffers the messages that create t under name, with base chains
// when hooked, with regular chains otherwise.
func (c *Conn) queue(t *Table, name string, hooked bool) error {
	tbl := c.nc.CreateTable(&nftables.Table{Family: t.Family, Name: name})
	ids := map[string]uint32{}
	for _, s := range t.Sets {
		ns, elems, err := s.nft(tbl)
		if err != nil {
			return err
		}
		if err := c.nc.AddSet(ns, elems); err != nil {
			return fmt.Errorf("add set %s: %w", s.Name, err)
		}
		ids[s.Name] = ns.ID
	}
	accept := nftables.ChainPolicyAccept
	for _, ch := range t.Chains {
		chain := &nftables.Chain{Name: ch.Name, Table: tbl}
		if hooked {
			hook, prio := ch.Hook, ch.Priority
			chain.Type, chain.Hooknum, chain.Priority, chain.Policy = nftables.ChainTypeFilter, &hook, &prio, &accept
		}
		chain = c.nc.AddChain(chain)
		for _, r := range ch.Rules {
			c.nc.AddRule(&nftables.Rule{Table: tbl, Chain: chain, Exprs: bindSets(r.Exprs, ids)})
		}
	}
	return nil
}

// bindSets copies exprs, giving each lookup the batch id of its set so the
// kernel finds sets created in the same batch.
func bindSets(exprs []expr.Any, ids map[string]uint32) []expr.Any {
	out := make([]expr.Any, len(exprs))
	for i, e := range exprs {
		if l, ok := e.(*expr.Lookup); ok {
			cp := *l
			cp.SetID = ids[l.SetName]
			e = &cp
		}
		out[i] = e
	}
	return out
}

// nft returns the library's set and elements for s in table t.
func (s Set) nft(t *nftables.Table) (*nftables.Set, []nftables.SetElement, error) {
	ns := &nftables.Set{
		Table: t, Name: s.Name, Interval: s.Interval, Constant: s.Constant,
		HasTimeout: s.Timeout > 0, KeyType: s.Key.datatype(),
	}
	if s.Timeout > 0 && s.Timeout < time.Millisecond {
		return nil, nil, fmt.Errorf("set %s: timeout %v is under a millisecond", s.Name, s.Timeout)
	}
	elems, err := s.elements()
	if err != nil {
		return nil, nil, err
	}
	return ns, elems, nil
}

func (k KeyType) datatype() nftables.SetDatatype {
	switch k {
	case KeyIPv4:
		return nftables.TypeIPAddr
	case KeyIPv6:
		return nftables.TypeIP6Addr
	case KeyPort:
		return nftables.TypeInetService
	}
	return nftables.TypeInvalid
}

// String returns the nft name of the key type.
func (k KeyType) String() string { return k.datatype().Name }
