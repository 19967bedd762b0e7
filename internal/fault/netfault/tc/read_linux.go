//go:build linux

package tc

import (
	"fmt"

	"github.com/vishvananda/netlink"
)

// ClassState is one fault's class and leaf qdisc as read back.
type ClassState struct {
	// Present is false when the class is gone.
	Present bool
	// Rate and Ceil are the class's, in bits per second.
	Rate, Ceil uint64
	// Netem is the leaf netem qdisc, nil when the leaf is not netem.
	Netem *netlink.Netem
	// Sent is how many packets the class has sent; Dropped how many its
	// leaf dropped.
	Sent, Dropped uint64
}

// Read returns the state of class b0b:minor.
func (t *Tree) Read(minor uint16) (ClassState, error) {
	var st ClassState
	cs, err := t.classes()
	if err != nil {
		return st, err
	}
	for _, c := range cs {
		h, ok := c.(*netlink.HtbClass)
		if !ok || h.Handle != ClassHandle(minor) {
			continue
		}
		st.Present, st.Rate, st.Ceil = true, h.Rate*8, h.Ceil*8
		if s := h.Statistics; s != nil && s.Basic != nil {
			st.Sent = uint64(s.Basic.Packets)
		}
		if s := h.Statistics; s != nil && s.Queue != nil {
			st.Dropped = uint64(s.Queue.Drops)
		}
	}
	if !st.Present {
		return st, nil
	}
	qs, err := t.h.QdiscList(t.link)
	if err != nil {
		return st, fmt.Errorf("list qdiscs of %s: %w", t.name(), err)
	}
	for _, q := range qs {
		if n, ok := q.(*netlink.Netem); ok && n.Parent == ClassHandle(minor) {
			st.Netem = n
		}
	}
	return st, nil
}
