//go:build linux

package testutil

import (
	"fmt"
	"sort"
	"strings"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

var nftFamilies = map[nftables.TableFamily]string{
	nftables.TableFamilyINet: "inet", nftables.TableFamilyIPv4: "ip", nftables.TableFamilyIPv6: "ip6",
	nftables.TableFamilyARP: "arp", nftables.TableFamilyNetdev: "netdev", nftables.TableFamilyBridge: "bridge",
}

func nftFamily(f nftables.TableFamily) string {
	if s, ok := nftFamilies[f]; ok {
		return s
	}
	return fmt.Sprintf("family%d", f)
}

// snapNFTables records the whole ruleset of the namespace nsFD: tables, chains,
// rules (by position, expressions without counters), sets with their elements,
// named objects and flowtables.
func (s *HostSnapshot) snapNFTables(nsFD int) error {
	// A kernel without nfnetlink (a minimal VM kernel before its modules
	// load) has no ruleset to record; the nftables library would fail
	// inside its socket layer instead of returning an error.
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		s.put("nft", "unavailable: "+err.Error())
		return nil
	}
	unix.Close(fd)
	c, err := nftables.New(nftables.WithNetNSFd(nsFD), nftables.AsLasting())
	if err != nil {
		return err
	}
	defer c.CloseLasting()
	tables, err := c.ListTables()
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	for _, t := range tables {
		tk := "nft table " + nftFamily(t.Family) + " " + t.Name
		s.put(tk, fmt.Sprintf("flags=%#x", t.Flags))
		s.snapNFTSets(c, t, tk)
		objs, err := c.GetNamedObjects(t)
		s.putErr(tk+" objects", err)
		for _, o := range objs {
			if n, ok := o.(*nftables.NamedObj); ok {
				s.put(tk+" obj "+n.Name, canon(struct {
					Type nftables.ObjType
					Obj  any
				}{n.Type, n.Obj}))
			}
		}
		fts, err := c.ListFlowtables(t)
		s.putErr(tk+" flowtables", err)
		for _, ft := range fts {
			cp := *ft
			cp.Table = nil
			s.put(tk+" flowtable "+ft.Name, canon(cp))
		}
	}
	chains, err := c.ListChains()
	if err != nil {
		return fmt.Errorf("list chains: %w", err)
	}
	for _, ch := range chains {
		ck := "nft chain " + nftFamily(ch.Table.Family) + " " + ch.Table.Name + " " + ch.Name
		s.put(ck, canon(struct {
			Type     nftables.ChainType
			Hook     *nftables.ChainHook
			Priority *nftables.ChainPriority
			Policy   *nftables.ChainPolicy
			Device   string
		}{ch.Type, ch.Hooknum, ch.Priority, ch.Policy, ch.Device}))
		rules, err := c.GetRules(ch.Table, ch)
		if err != nil {
			return fmt.Errorf("list rules of %s: %w", ck, err)
		}
		for i, r := range rules {
			v := canon(r.Exprs)
			if len(r.UserData) > 0 {
				v += " userdata=" + canon(r.UserData)
			}
			s.put(fmt.Sprintf("%s rule #%d", ck, i), v)
		}
	}
	return nil
}

func (s *HostSnapshot) snapNFTSets(c *nftables.Conn, t *nftables.Table, tk string) {
	sets, err := c.GetSets(t)
	s.putErr(tk+" sets", err)
	for _, set := range sets {
		cp := *set
		cp.Table, cp.ID = nil, 0
		sk := tk + " set " + set.Name
		s.put(sk, canon(cp))
		elems, err := c.GetSetElements(set)
		if err != nil {
			s.put(sk+" elements", "error: "+err.Error())
			continue
		}
		es := make([]string, len(elems))
		for i, e := range elems {
			es[i] = canon(e)
		}
		sort.Strings(es)
		s.put(sk+" elements", "["+strings.Join(es, ", ")+"]")
	}
}

// putErr records err under key, so that a listing this kernel refuses reads the
// same in both snapshots instead of failing them.
func (s *HostSnapshot) putErr(key string, err error) {
	if err != nil {
		s.put(key, "error: "+err.Error())
	}
}

// snapLinks records links (with ifb and other kinds), qdiscs, classes, filters,
// addresses, routes of every table and policy-routing rules of namespace nsFD.
func (s *HostSnapshot) snapLinks(nsFD int) error {
	h, err := netlink.NewHandleAt(netns.NsHandle(nsFD), unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer h.Close()
	links, err := h.LinkList()
	if err != nil {
		return fmt.Errorf("list links: %w", err)
	}
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	for _, l := range links {
		a := l.Attrs()
		s.put("link "+a.Name, fmt.Sprintf("kind=%s flags=%s mtu=%d txqlen=%d master=%s",
			l.Type(), a.Flags, a.MTU, a.TxQLen, names[a.MasterIndex]))
		if err := s.snapTC(h, l); err != nil {
			return fmt.Errorf("link %s: %w", a.Name, err)
		}
	}
	addrs, err := h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return fmt.Errorf("list addresses: %w", err)
	}
	for _, a := range addrs {
		s.put(fmt.Sprintf("addr %s %s", names[a.LinkIndex], a.IPNet), fmt.Sprintf("scope=%d label=%s peer=%v", a.Scope, a.Label, a.Peer))
	}
	routes, err := h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	for _, r := range routes {
		dst := "default"
		if r.Dst != nil {
			dst = r.Dst.String()
		}
		s.put(fmt.Sprintf("route table %d %s dev %s", r.Table, dst, names[r.LinkIndex]),
			fmt.Sprintf("type=%d proto=%s scope=%s gw=%v src=%v prio=%d mtu=%d multipath=%s",
				r.Type, r.Protocol, r.Scope, r.Gw, r.Src, r.Priority, r.MTU, canon(r.MultiPath)))
	}
	rules, err := h.RuleList(netlink.FAMILY_ALL)
	if err != nil {
		return fmt.Errorf("list rules: %w", err)
	}
	for _, r := range rules {
		s.put(fmt.Sprintf("iprule family %d prio %d", r.Family, r.Priority), canon(r))
	}
	return nil
}

// snapTC records the qdiscs, classes and filters of link l. Filters hang off
// qdiscs, classes and the clsact ingress/egress hooks, so each is asked.
func (s *HostSnapshot) snapTC(h *netlink.Handle, l netlink.Link) error {
	name := l.Attrs().Name
	qdiscs, err := h.QdiscList(l)
	if err != nil {
		return fmt.Errorf("list qdiscs: %w", err)
	}
	parents := map[uint32]bool{}
	for _, q := range qdiscs {
		qa := q.Attrs()
		s.put(fmt.Sprintf("qdisc %s %s parent %s", name, netlink.HandleStr(qa.Handle), netlink.HandleStr(qa.Parent)),
			q.Type()+" "+canon(q))
		if qa.Handle != 0 {
			parents[qa.Handle] = true
		}
		if q.Type() == "clsact" {
			parents[netlink.HANDLE_MIN_INGRESS], parents[netlink.HANDLE_MIN_EGRESS] = true, true
		}
	}
	classes, err := h.ClassList(l, 0)
	if err != nil {
		return fmt.Errorf("list classes: %w", err)
	}
	for _, c := range classes {
		ca := c.Attrs()
		s.put(fmt.Sprintf("class %s %s parent %s", name, netlink.HandleStr(ca.Handle), netlink.HandleStr(ca.Parent)),
			c.Type()+" "+canon(c))
		parents[ca.Handle] = true
	}
	for p := range parents {
		filters, err := h.FilterList(l, p)
		if err != nil {
			s.put(fmt.Sprintf("filter %s parent %s", name, netlink.HandleStr(p)), "error: "+err.Error())
			continue
		}
		for i, f := range filters {
			fa := f.Attrs()
			s.put(fmt.Sprintf("filter %s parent %s prio %d #%d", name, netlink.HandleStr(p), fa.Priority, i),
				f.Type()+" "+canon(f))
		}
	}
	return nil
}
