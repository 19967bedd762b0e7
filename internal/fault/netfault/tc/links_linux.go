//go:build linux

package tc

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
)

// LinkRef names an interface by name and index.
type LinkRef struct {
	Name  string
	Index int
}

// Links returns the interfaces a fault acts on, in the namespace at nsPath
// (empty for this process's own): the named ones; else those the routes to
// dsts leave through (lo for a local address); else — no destination, or
// one no route leads to, such as a multicast group without a route — every
// non-loopback interface that is up.
func Links(nsPath string, nsInode uint64, names []string, dsts []netip.Prefix) ([]LinkRef, error) {
	t := &Tree{}
	if err := t.openNS(nsPath, nsInode); err != nil {
		return nil, err
	}
	defer t.closeHandle()
	var out []LinkRef
	add := func(l netlink.Link) {
		r := LinkRef{Name: l.Attrs().Name, Index: l.Attrs().Index}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	for _, n := range names {
		l, err := t.h.LinkByName(n)
		if err != nil {
			return nil, fmt.Errorf("interface %s: %w", n, err)
		}
		add(l)
	}
	if len(names) > 0 {
		return out, nil
	}
	unrouted := len(dsts) == 0
	var why []string
	for _, d := range dsts {
		routes, err := t.h.RouteGet(net.IP(d.Addr().AsSlice()))
		if err != nil || len(routes) == 0 {
			why = append(why, fmt.Sprintf("route to %s: %v", d.Addr(), err))
			unrouted = true
			continue
		}
		l, err := t.h.LinkByIndex(routes[0].LinkIndex)
		if err != nil {
			return nil, fmt.Errorf("interface %d of the route to %s: %w", routes[0].LinkIndex, d.Addr(), err)
		}
		add(l)
	}
	if unrouted {
		links, err := t.h.LinkList()
		if err != nil {
			return nil, fmt.Errorf("list interfaces: %w", err)
		}
		for _, l := range links {
			if l.Attrs().Flags&net.FlagLoopback == 0 && l.Attrs().Flags&net.FlagUp != 0 {
				add(l)
			} else {
				why = append(why, fmt.Sprintf("%s is %s", l.Attrs().Name, l.Attrs().Flags))
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no interface to act on (%s); pass --interface", strings.Join(why, "; "))
	}
	return out, nil
}
