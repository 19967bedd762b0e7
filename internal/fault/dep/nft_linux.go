//go:build linux

package dep

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// The redirect table of a fault, family inet:
//
//	table inet bulwark_dep_<id> {
//	  set dst4 { type ipv4_addr; flags timeout; elements = { A timeout 5s } }
//	  set dst6 { type ipv6_addr; flags timeout; … }
//	  chain output     { type nat hook output priority dstnat; policy accept; <rules> }  # this host's own traffic
//	  chain prerouting { type nat hook prerouting priority dstnat; policy accept; <rules> }  # forwarded traffic
//	}
//	rule: meta nfproto ipv4 ip daddr @dst4 meta l4proto tcp th dport PORT tcp flags & (fin|syn|rst|ack) == syn meta mark != MARK counter redirect to :PROXY
//	(and the same for ipv6 with @dst6)
//
// Only a SYN is redirected: NAT binds at a flow's first packet, and where
// conntrack first meets an established connection mid-stream (its table
// installed after the connection began, nf_conntrack_tcp_loose), that first
// packet is not a SYN, so the connection stays direct instead of being
// redirected to a proxy that does not know it and reset.
//
// The rules match only through the sets, whose elements the live helper
// refreshes; when it stops, they expire and the rules match nothing.

const (
	setV4, setV6      = "dst4", "dst6"
	chainOut, chainPR = "output", "prerouting"
)

// errNetNSGone means the namespace a fault was applied in no longer exists.
var errNetNSGone = errors.New("network namespace is gone")

// nftConn is an nftables connection bound to one network namespace.
type nftConn struct {
	*nftables.Conn
	ns *os.File
}

// openNFT connects to nf_tables in the namespace at path (checked against
// inode when non-zero), or in this process's own namespace when path is
// empty.
func openNFT(path string, inode uint64) (*nftConn, error) {
	c := &nftConn{}
	opts := []nftables.ConnOption{nftables.AsLasting()}
	if path != "" {
		f, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("open network namespace %s: %w", path, errNetNSGone)
		}
		if err != nil {
			return nil, fmt.Errorf("open network namespace %s: %w", path, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil || inode != 0 && st.Ino != inode {
			f.Close()
			return nil, fmt.Errorf("network namespace %s is not inode %d: %w", path, inode, errNetNSGone)
		}
		c.ns = f
		opts = append(opts, nftables.WithNetNSFd(int(f.Fd())))
	} else if inode != 0 {
		if own := ownNetNS(); own != inode {
			return nil, fmt.Errorf("network namespace %d is not this process's (%d); run from that namespace", inode, own)
		}
	}
	nc, err := nftables.New(opts...)
	if err != nil {
		c.close()
		return nil, fmt.Errorf("open nftables netlink socket: %w", err)
	}
	c.Conn = nc
	return c, nil
}

// ownNetNS returns the inode of this process's network namespace (0 when
// it cannot be read).
func ownNetNS() uint64 {
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return 0
	}
	return st.Ino
}

func (c *nftConn) close() {
	if c.Conn != nil {
		_ = c.CloseLasting()
	}
	if c.ns != nil {
		c.ns.Close()
	}
}

// explain adds what a bare errno means for nf_tables.
func explain(err error) error {
	switch {
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("%w (needs root or CAP_NET_ADMIN)", err)
	case errors.Is(err, unix.EPROTONOSUPPORT), errors.Is(err, unix.EAFNOSUPPORT), errors.Is(err, unix.EOPNOTSUPP):
		return fmt.Errorf("%w (kernel without nf_tables nat)", err)
	}
	return err
}

// split returns the IPv4 and IPv6 addresses.
func split(addrs []netip.Addr) (v4, v6 []netip.Addr) {
	for _, a := range addrs {
		if a.Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	return v4, v6
}

// elements returns set elements for addrs with the given timeout.
func elements(addrs []netip.Addr, timeout time.Duration) []nftables.SetElement {
	out := make([]nftables.SetElement, len(addrs))
	for i, a := range addrs {
		out[i] = nftables.SetElement{Key: a.AsSlice(), Timeout: timeout}
	}
	return out
}

// tcpFlagsMask is fin|syn|rst|ack; a SYN alone has tcpFlagSyn under it.
const tcpFlagsMask, tcpFlagSyn = 0x17, 0x02

// redirectRule is one family's rule of d: daddr in the set, tcp dport ==
// port, a SYN (d.SynOnly), mark != mark, counter, redirect to :proxyPort.
func redirectRule(v6 bool, set string, d *receiptV1, proxyPort uint16) []expr.Any {
	proto, off, n := byte(unix.NFPROTO_IPV4), uint32(16), uint32(4)
	if v6 {
		proto, off, n = unix.NFPROTO_IPV6, 24, 16
	}
	port, mark := d.Port, d.Mark
	var syn []expr.Any
	if d.SynOnly {
		syn = []expr.Any{
			&expr.Payload{OperationType: expr.PayloadLoad, DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 13, Len: 1},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 1, Mask: []byte{tcpFlagsMask}, Xor: []byte{0}},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{tcpFlagSyn}},
		}
	}
	return slices.Concat([]expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{OperationType: expr.PayloadLoad, DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n},
		&expr.Lookup{SourceRegister: 1, SetName: set},
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
		&expr.Payload{OperationType: expr.PayloadLoad, DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(port)},
	}, syn, []expr.Any{
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(mark)},
		&expr.Counter{},
		&expr.Immediate{Register: 1, Data: binaryutil.BigEndian.PutUint16(proxyPort)},
		&expr.Redir{RegisterProtoMin: 1},
	})
}

// queueTable buffers the messages that create d's table under name.
func queueTable(c *nftConn, d *receiptV1, name string, proxyPort uint16) error {
	tbl := c.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: name})
	v4, v6 := split(d.Addrs)
	timeout := d.ElementTimeout.Std()
	sets := map[string]*nftables.Set{}
	for _, s := range []struct {
		name  string
		key   nftables.SetDatatype
		addrs []netip.Addr
	}{{setV4, nftables.TypeIPAddr, v4}, {setV6, nftables.TypeIP6Addr, v6}} {
		set := &nftables.Set{Table: tbl, Name: s.name, KeyType: s.key, HasTimeout: true}
		if err := c.AddSet(set, elements(s.addrs, timeout)); err != nil {
			return fmt.Errorf("add set %s: %w", s.name, err)
		}
		sets[s.name] = set
	}
	accept := nftables.ChainPolicyAccept
	for _, hook := range []struct {
		name string
		hook *nftables.ChainHook
	}{{chainOut, nftables.ChainHookOutput}, {chainPR, nftables.ChainHookPrerouting}} {
		ch := c.AddChain(&nftables.Chain{
			Name: hook.name, Table: tbl, Type: nftables.ChainTypeNAT,
			Hooknum: hook.hook, Priority: nftables.ChainPriorityNATDest, Policy: &accept,
		})
		for _, v6 := range []bool{false, true} {
			set := sets[setV4]
			if v6 {
				set = sets[setV6]
			}
			exprs := redirectRule(v6, set.Name, d, proxyPort)
			for _, e := range exprs {
				if l, ok := e.(*expr.Lookup); ok {
					l.SetID = set.ID
				}
			}
			c.AddRule(&nftables.Rule{Table: tbl, Chain: ch, Exprs: exprs})
		}
	}
	return nil
}

// createTable adds d's whole table in one atomic batch.
func createTable(c *nftConn, d *receiptV1) error {
	if err := queueTable(c, d, d.Table, d.ProxyPort); err != nil {
		return err
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("create table inet %s: %w", d.Table, explain(err))
	}
	return nil
}

// probeTable asks the kernel whether it accepts d's table (nat chains on
// both hooks, sets with timeouts, redirect), leaving nothing behind: the
// table is created under a random name and deleted in the same batch.
func probeTable(c *nftConn, d *receiptV1) error {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := tablePrefix + "probe_" + hex.EncodeToString(b[:])
	if err := queueTable(c, d, name, 1); err != nil {
		return err
	}
	c.DelTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: name})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("kernel refuses a nat redirect table: %w", explain(err))
	}
	return nil
}

// deleteTable removes the table; a missing one is not an error.
func deleteTable(c *nftConn, name string) (existed bool, err error) {
	c.DelTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: name})
	err = c.Flush()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.ENOENT):
		return false, nil
	}
	return false, fmt.Errorf("delete table inet %s: %w", name, explain(err))
}

// tableExists reports whether the table is there.
func tableExists(c *nftConn, name string) (bool, error) {
	_, err := c.ListTableOfFamily(name, nftables.TableFamilyINet)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.ENOENT):
		return false, nil
	}
	return false, fmt.Errorf("look up table inet %s: %w", name, explain(err))
}

// Refresh modes: how the helper renews the elements' timeouts.
const (
	refreshReplace = "delete+add" // delete and re-add in one atomic batch
	refreshAdd     = "add"        // re-add only (an element that had expired)
)

// refreshElements renews the timeouts of the table's elements: a delete and
// an add of every element in one atomic batch, so a lookup never misses
// them. If an element has already expired (the delete fails), it is added
// again alone. It returns which way worked.
func refreshElements(c *nftConn, d *receiptV1) (string, error) {
	err := queueRefresh(c, d, true)
	if err == nil {
		err = c.Flush()
	}
	if err == nil {
		return refreshReplace, nil
	}
	if !errors.Is(err, unix.ENOENT) {
		return "", fmt.Errorf("refresh elements of inet %s: %w", d.Table, explain(err))
	}
	if err := queueRefresh(c, d, false); err != nil {
		return "", err
	}
	if err := c.Flush(); err != nil {
		return "", fmt.Errorf("refresh elements of inet %s: %w", d.Table, explain(err))
	}
	return refreshAdd, nil
}

func queueRefresh(c *nftConn, d *receiptV1, del bool) error {
	tbl := &nftables.Table{Family: nftables.TableFamilyINet, Name: d.Table}
	v4, v6 := split(d.Addrs)
	for _, s := range []struct {
		name  string
		key   nftables.SetDatatype
		addrs []netip.Addr
	}{{setV4, nftables.TypeIPAddr, v4}, {setV6, nftables.TypeIP6Addr, v6}} {
		if len(s.addrs) == 0 {
			continue
		}
		set := &nftables.Set{Table: tbl, Name: s.name, KeyType: s.key, HasTimeout: true}
		if del {
			if err := c.SetDeleteElements(set, elements(s.addrs, 0)); err != nil {
				return err
			}
		}
		if err := c.SetAddElements(set, elements(s.addrs, d.ElementTimeout.Std())); err != nil {
			return err
		}
	}
	return nil
}

// tableState is the table as read back: each set's elements with what is
// left of their timeouts, and each chain's hook, type and rule texts.
type tableState struct {
	Elements map[string][]elemState
	Chains   map[string]chainState
}

type elemState struct {
	Addr    netip.Addr
	Expires time.Duration
}

type chainState struct {
	Type  nftables.ChainType
	Hook  nftables.ChainHook
	Rules []string
	// Packets counts what the chain's rules redirected.
	Packets uint64
}

// readTable dumps the table; nil when it is absent.
func readTable(c *nftConn, name string) (*tableState, error) {
	ok, err := tableExists(c, name)
	if err != nil || !ok {
		return nil, err
	}
	tbl := &nftables.Table{Family: nftables.TableFamilyINet, Name: name}
	st := &tableState{Elements: map[string][]elemState{}, Chains: map[string]chainState{}}
	sets, err := c.GetSets(tbl)
	if err != nil {
		return nil, fmt.Errorf("list sets of %s: %w", name, explain(err))
	}
	for _, s := range sets {
		s.Table = tbl
		elems, err := c.GetSetElements(s)
		if err != nil {
			return nil, fmt.Errorf("list elements of %s: %w", s.Name, explain(err))
		}
		st.Elements[s.Name] = []elemState{}
		for _, e := range elems {
			a, _ := netip.AddrFromSlice(e.Key)
			st.Elements[s.Name] = append(st.Elements[s.Name], elemState{a, e.Expires})
		}
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		return nil, fmt.Errorf("list chains: %w", explain(err))
	}
	for _, ch := range chains {
		if ch.Table.Name != name {
			continue
		}
		cs := chainState{Type: ch.Type}
		if ch.Hooknum != nil {
			cs.Hook = *ch.Hooknum
		}
		rules, err := c.GetRules(tbl, ch)
		if err != nil {
			return nil, fmt.Errorf("list rules of %s: %w", ch.Name, explain(err))
		}
		for _, r := range rules {
			cs.Rules = append(cs.Rules, renderRule(r.Exprs))
			for _, e := range r.Exprs {
				if ctr, ok := e.(*expr.Counter); ok {
					cs.Packets += ctr.Packets
				}
			}
		}
		st.Chains[ch.Name] = cs
	}
	return st, nil
}

// compareTable says how the table read back differs from the fault's.
func compareTable(d *receiptV1, st *tableState) []string {
	if st == nil {
		return []string{"table inet " + d.Table + " is missing"}
	}
	var diffs []string
	for _, w := range []struct {
		name string
		hook nftables.ChainHook
	}{{chainOut, *nftables.ChainHookOutput}, {chainPR, *nftables.ChainHookPrerouting}} {
		ch, ok := st.Chains[w.name]
		if !ok {
			diffs = append(diffs, "chain "+w.name+" is missing")
			continue
		}
		if ch.Type != nftables.ChainTypeNAT || ch.Hook != w.hook {
			diffs = append(diffs, fmt.Sprintf("chain %s is type %s hook %d, want nat hook %d", w.name, ch.Type, ch.Hook, w.hook))
		}
		want := []string{
			renderRule(redirectRule(false, setV4, d, d.ProxyPort)),
			renderRule(redirectRule(true, setV6, d, d.ProxyPort)),
		}
		if strings.Join(ch.Rules, "\n") != strings.Join(want, "\n") {
			diffs = append(diffs, fmt.Sprintf("chain %s rules are %q, want %q", w.name, ch.Rules, want))
		}
	}
	if len(st.Chains) != 2 {
		diffs = append(diffs, fmt.Sprintf("table has %d chains, want 2", len(st.Chains)))
	}
	for _, set := range []string{setV4, setV6} {
		if _, ok := st.Elements[set]; !ok {
			diffs = append(diffs, "set "+set+" is missing")
		}
	}
	return diffs
}

// renderRule returns an nft-like text of the expressions this package
// writes; read-back and built rules render the same.
func renderRule(exprs []expr.Any) string {
	var parts []string
	for _, e := range exprs {
		switch e := e.(type) {
		case *expr.Meta:
			parts = append(parts, fmt.Sprintf("meta key%d", e.Key))
		case *expr.Cmp:
			op := "=="
			if e.Op == expr.CmpOpNeq {
				op = "!="
			}
			parts = append(parts, op+" 0x"+hex.EncodeToString(e.Data))
		case *expr.Payload:
			parts = append(parts, fmt.Sprintf("payload base%d %d/%d", e.Base, e.Offset, e.Len))
		case *expr.Lookup:
			parts = append(parts, "@"+e.SetName)
		case *expr.Bitwise:
			parts = append(parts, "& 0x"+hex.EncodeToString(e.Mask)+" ^ 0x"+hex.EncodeToString(e.Xor))
		case *expr.Counter:
			parts = append(parts, "counter")
		case *expr.Immediate:
			parts = append(parts, "immediate 0x"+hex.EncodeToString(e.Data))
		case *expr.Redir:
			parts = append(parts, fmt.Sprintf("redirect reg%d", e.RegisterProtoMin))
		default:
			parts = append(parts, fmt.Sprintf("<%T>", e))
		}
	}
	return strings.Join(parts, " ")
}

// nftFor opens nf_tables where the fault lives: the namespace its receipt
// records (checked by inode), or before the manager recorded one, the
// host's.
func nftFor(h *fault.Host, r *fault.Receipt) (*nftConn, error) {
	if r != nil && r.NetNS != nil {
		return openNFT(r.NetNS.Path, r.NetNS.Inode)
	}
	return openNFT(h.NetNSPath, 0)
}

// deleteElements removes the fault's set elements in one batch, so that
// the rules match nothing from now on.
func deleteElements(c *nftConn, d *receiptV1) error {
	tbl := &nftables.Table{Family: nftables.TableFamilyINet, Name: d.Table}
	v4, v6 := split(d.Addrs)
	for _, s := range []struct {
		name  string
		key   nftables.SetDatatype
		addrs []netip.Addr
	}{{setV4, nftables.TypeIPAddr, v4}, {setV6, nftables.TypeIP6Addr, v6}} {
		if len(s.addrs) == 0 {
			continue
		}
		set := &nftables.Set{Table: tbl, Name: s.name, KeyType: s.key, HasTimeout: true}
		if err := c.SetDeleteElements(set, elements(s.addrs, 0)); err != nil {
			return err
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("delete elements of inet %s: %w", d.Table, explain(err))
	}
	return nil
}

// clearElements makes the redirect inert by deleting its set elements one
// by one (an element that has already expired, or a table already gone, is
// fine). The table and its rules stay: removing a redirect rule resets the
// connections it redirected earlier (seen on 6.18), while with no elements
// left they keep flowing through the proxy and drain. The helper deletes the
// table once they have.
func clearElements(c *nftConn, d *receiptV1) error {
	tbl := &nftables.Table{Family: nftables.TableFamilyINet, Name: d.Table}
	v4, v6 := split(d.Addrs)
	for _, s := range []struct {
		name  string
		key   nftables.SetDatatype
		addrs []netip.Addr
	}{{setV4, nftables.TypeIPAddr, v4}, {setV6, nftables.TypeIP6Addr, v6}} {
		set := &nftables.Set{Table: tbl, Name: s.name, KeyType: s.key, HasTimeout: true}
		for _, a := range s.addrs {
			if err := c.SetDeleteElements(set, elements([]netip.Addr{a}, 0)); err != nil {
				return err
			}
			if err := c.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
				return fmt.Errorf("delete element %s of inet %s: %w", a, d.Table, explain(err))
			}
		}
	}
	return nil
}

// elementCount counts the elements left in the table's sets.
func elementCount(c *nftConn, name string) (int, error) {
	tbl := &nftables.Table{Family: nftables.TableFamilyINet, Name: name}
	n := 0
	for _, s := range []string{setV4, setV6} {
		set, err := c.GetSetByName(tbl, s)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("look up set %s of inet %s: %w", s, name, explain(err))
		}
		els, err := c.GetSetElements(set)
		if err != nil {
			return 0, fmt.Errorf("list set %s of inet %s: %w", s, name, explain(err))
		}
		n += len(els)
	}
	return n, nil
}
