//go:build linux

package tc

import (
	"github.com/vishvananda/netlink"
)

// ClassState is one fault's class and leaf qdisc as read back.
type ClassState struct {
	// Present is false when the class is gone.
	Present bool
	// Minor is the class's number (b0b:Minor); Leaf its leaf qdisc's kind.
	Minor uint16
	Leaf  string
	// Rate and Ceil are the class's, in bits per second.
	Rate, Ceil uint64
	// Netem is the leaf netem qdisc, nil when the leaf is not netem.
	Netem *netlink.Netem
	// Sent is how many packets the class has sent; Dropped how many its
	// leaf dropped.
	Sent, Dropped uint64
}

// Read returns the state of the class whose leaf qdisc is major:.
func (t *Tree) Read(major uint16) (ClassState, error) {
	var st ClassState
	minor, leaf, err := t.classOf(major)
	if err != nil || leaf == nil {
		return st, err
	}
	st.Minor, st.Leaf = minor, leaf.Type()
	if n, ok := leaf.(*netlink.Netem); ok {
		st.Netem = n
	}
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
	return st, nil
}
