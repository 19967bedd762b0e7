//go:build linux

package tc

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// UnlimitedRate is the rate (bits/s) of a fault class that only delays or
// damages packets: high enough never to be the bottleneck.
const UnlimitedRate = 100_000_000_000

// Leaf is what one fault's class does to the packets classified into it.
type Leaf struct {
	// Major is the handle major of the class's leaf qdisc, chosen by the
	// fault before anything changes (see NewMajor) and recorded in its
	// receipt: the fault's mark on the tree. Remove and Read find the
	// fault's class through it, so a receipt journaled before Apply
	// learned the class number still recovers exactly its own class.
	Major uint16
	// Rate caps the class, in bits per second; zero means UnlimitedRate.
	Rate uint64
	// Netem, when set, is the class's leaf qdisc (delay, loss, duplicate,
	// corrupt, reorder). Without it the leaf is a pfifo.
	Netem *netlink.NetemQdiscAttrs
	// Dist, when set, is netem's delay distribution table (DistTable).
	Dist []int16
}

func (l Leaf) rate() uint64 {
	if l.Rate == 0 {
		return UnlimitedRate
	}
	return l.Rate
}

// Add gives a fault a class of its own, taking over the root first if no
// fault holds it yet (snapshot saved and fsynced before the kernel is
// touched). It returns the class's minor number: the fault's nftables rule
// sets skb->priority to ClassHandle(minor). On failure nothing of the fault
// is left, and the root is restored if no other fault holds it.
func (t *Tree) Add(l Leaf) (uint16, error) {
	if l.Major < MinLeafMajor || l.Major > MaxLeafMajor {
		return 0, fmt.Errorf("leaf major %#x is outside %#x..%#x", l.Major, MinLeafMajor, MaxLeafMajor)
	}
	root, err := t.root()
	if err != nil {
		return 0, err
	}
	if q, err := t.leafQdisc(l.Major); err != nil {
		return 0, err
	} else if q != nil {
		return 0, fmt.Errorf("interface %s already has a qdisc %s", t.name(), netlink.HandleStr(q.Attrs().Handle))
	}
	if !isOurs(root) {
		if err := t.takeRoot(root); err != nil {
			return 0, err
		}
	} else if rec, err := t.readRecord(); err != nil || rec == nil {
		return 0, fmt.Errorf("interface %s has bulwark's root htb but no record of what it replaced (%v); refusing to add to it", t.name(), err)
	}
	minor, err := t.freeMinor()
	if err == nil {
		err = t.addClass(minor, l)
	}
	if err != nil {
		if rerr := t.remove(minor); rerr != nil {
			err = errors.Join(err, fmt.Errorf("undo: %w", rerr))
		}
		return 0, err
	}
	return minor, nil
}

// takeRoot saves the current tree and replaces the root with Bulwark's
// htb, whose unclassified traffic takes the unshaped direct queue.
func (t *Tree) takeRoot(root netlink.Qdisc) error {
	rec, err := t.snapshot(root)
	if err != nil {
		return err
	}
	if err := t.writeRecord(rec); err != nil {
		return fmt.Errorf("save the qdisc tree of %s: %w", t.name(), err)
	}
	htb := netlink.NewHtb(netlink.QdiscAttrs{LinkIndex: t.link.Attrs().Index, Handle: netlink.MakeHandle(Major, 0), Parent: netlink.HANDLE_ROOT})
	if err := t.h.QdiscReplace(htb); err != nil {
		_ = t.removeRecord()
		return fmt.Errorf("replace the root qdisc of %s with htb b0b: %w", t.name(), explain(err))
	}
	return nil
}

func (t *Tree) freeMinor() (uint16, error) {
	cs, err := t.classes()
	if err != nil {
		return 0, err
	}
	used := map[uint32]bool{}
	for _, c := range cs {
		used[c.Attrs().Handle] = true
	}
	for m := uint16(FirstMinor); m <= LastMinor; m++ {
		if !used[ClassHandle(m)] {
			return m, nil
		}
	}
	return 0, fmt.Errorf("interface %s already has %d bulwark fault classes", t.name(), LastMinor-FirstMinor+1)
}

func (t *Tree) addClass(minor uint16, l Leaf) error {
	idx := t.link.Attrs().Index
	c := netlink.NewHtbClass(netlink.ClassAttrs{LinkIndex: idx, Parent: netlink.MakeHandle(Major, 0), Handle: ClassHandle(minor)},
		netlink.HtbClassAttrs{Rate: l.rate(), Ceil: l.rate()})
	if err := t.h.ClassAdd(c); err != nil {
		return fmt.Errorf("add htb class %s on %s: %w", netlink.HandleStr(ClassHandle(minor)), t.name(), explain(err))
	}
	attrs := netlink.QdiscAttrs{LinkIndex: idx, Handle: netlink.MakeHandle(l.Major, 0), Parent: ClassHandle(minor)}
	var q netlink.Qdisc = &netlink.GenericQdisc{QdiscAttrs: attrs, QdiscType: "pfifo"}
	add := t.h.QdiscAdd
	if l.Netem != nil {
		n := netlink.NewNetem(attrs, *l.Netem)
		q = n
		if len(l.Dist) > 0 {
			add = func(netlink.Qdisc) error { return t.addNetemDist(n, l.Dist) }
		}
	}
	if err := add(q); err != nil {
		return fmt.Errorf("add %s qdisc under %s on %s: %w", q.Type(), netlink.HandleStr(ClassHandle(minor)), t.name(), explain(err))
	}
	return nil
}

// leafQdisc returns the qdisc with handle major:, nil for none.
func (t *Tree) leafQdisc(major uint16) (netlink.Qdisc, error) {
	qs, err := t.h.QdiscList(t.link)
	if err != nil {
		return nil, fmt.Errorf("list qdiscs of %s: %w", t.name(), err)
	}
	for _, q := range qs {
		if q.Attrs().Handle == netlink.MakeHandle(major, 0) {
			return q, nil
		}
	}
	return nil, nil
}

// classOf returns the minor of the Bulwark class whose leaf qdisc is
// major:, 0 for none.
func (t *Tree) classOf(major uint16) (uint16, netlink.Qdisc, error) {
	q, err := t.leafQdisc(major)
	if err != nil || q == nil {
		return 0, nil, err
	}
	p := q.Attrs().Parent
	if p>>16 != Major || p&0xffff < FirstMinor {
		return 0, nil, fmt.Errorf("qdisc %s on %s hangs under %s, not a bulwark class", netlink.HandleStr(q.Attrs().Handle), t.name(), netlink.HandleStr(p))
	}
	return uint16(p & 0xffff), q, nil
}

// classes lists Bulwark's fault classes on the link.
func (t *Tree) classes() ([]netlink.Class, error) {
	cs, err := t.h.ClassList(t.link, netlink.MakeHandle(Major, 0))
	if err != nil {
		return nil, fmt.Errorf("list classes of %s: %w", t.name(), err)
	}
	var out []netlink.Class
	for _, c := range cs {
		if c.Attrs().Handle>>16 == Major {
			out = append(out, c)
		}
	}
	return out, nil
}

// Remove deletes the fault class whose leaf qdisc is major: (and the leaf
// with it); when no fault class is left it restores the saved tree and
// deletes the record. It is idempotent: a missing class, root or record is
// recovered already.
func (t *Tree) Remove(major uint16) error {
	minor, _, err := t.classOf(major)
	if err != nil {
		return err
	}
	return t.remove(minor)
}

// remove deletes class b0b:minor (none when minor is 0) and restores the
// tree when no fault class is left.
func (t *Tree) remove(minor uint16) error {
	root, err := t.root()
	if err != nil {
		return err
	}
	rec, err := t.readRecord()
	if err != nil {
		return err
	}
	if !isOurs(root) {
		// Restored already (the record's removal was interrupted), or
		// someone replaced the root and the fault's class with it.
		return t.removeRecord()
	}
	cs, err := t.classes()
	if err != nil {
		return err
	}
	left := 0
	for _, c := range cs {
		if c.Attrs().Handle != ClassHandle(minor) {
			left++
			continue
		}
		if err := t.h.ClassDel(c); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("delete class %s on %s: %w", netlink.HandleStr(ClassHandle(minor)), t.name(), err)
		}
	}
	if left > 0 {
		return nil
	}
	if rec == nil {
		return fmt.Errorf("interface %s has bulwark's root htb but no record of what it replaced; delete it by hand (tc qdisc del dev %s root)", t.name(), t.name())
	}
	if err := t.restore(rec); err != nil {
		return err
	}
	return t.removeRecord()
}

// restore puts the saved tree back in place of Bulwark's root.
func (t *Tree) restore(rec *record) error {
	idx := t.link.Attrs().Index
	defer t.restoreTxQLen(rec)
	if rec.Default {
		ours := &netlink.GenericQdisc{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: idx, Handle: netlink.MakeHandle(Major, 0), Parent: netlink.HANDLE_ROOT}, QdiscType: "htb"}
		if err := t.h.QdiscDel(ours); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("delete the root htb of %s: %w", t.name(), err)
		}
		return nil
	}
	for i, o := range rec.Qdiscs {
		q, err := o.qdisc(idx)
		if err != nil {
			return err
		}
		add := t.h.QdiscAdd
		if i == 0 {
			add = t.h.QdiscReplace
		}
		if err := add(q); err != nil {
			return fmt.Errorf("restore %s qdisc %s on %s: %w", o.Type, netlink.HandleStr(o.Handle), t.name(), err)
		}
		if i == 0 {
			if err := t.restoreClasses(rec, idx); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *Tree) restoreClasses(rec *record, idx int) error {
	for _, o := range rec.Classes {
		var c netlink.HtbClass
		if err := json.Unmarshal(o.Attrs, &c); err != nil {
			return fmt.Errorf("decode class %s: %w", netlink.HandleStr(o.Handle), err)
		}
		c.LinkIndex, c.Statistics = idx, nil
		if err := t.h.ClassAdd(&c); err != nil {
			return fmt.Errorf("restore class %s on %s: %w", netlink.HandleStr(o.Handle), t.name(), err)
		}
	}
	return nil
}

func (o object) qdisc(link int) (netlink.Qdisc, error) {
	var q netlink.Qdisc
	switch o.Type {
	case "tbf":
		q = &netlink.Tbf{}
	case "htb":
		q = &netlink.Htb{}
	case "netem":
		q = &netlink.Netem{}
	default:
		return nil, fmt.Errorf("record holds a %s qdisc, which this binary cannot recreate", o.Type)
	}
	if err := json.Unmarshal(o.Attrs, q); err != nil {
		return nil, fmt.Errorf("decode %s qdisc %s: %w", o.Type, netlink.HandleStr(o.Handle), err)
	}
	a := q.Attrs()
	a.LinkIndex, a.Statistics, a.Refcnt = link, nil, 0
	if h, ok := q.(*netlink.Htb); ok {
		h.Version >>= 16 // read back as 0x30011, written as 3
		h.DirectPkts = 0 // a counter
	}
	return q, nil
}

// restoreTxQLen puts back a transmit queue length the kernel raised when
// Bulwark's root was attached.
func (t *Tree) restoreTxQLen(rec *record) {
	l, err := t.h.LinkByIndex(t.link.Attrs().Index)
	if err != nil || l.Attrs().TxQLen == rec.TxQLen {
		return
	}
	_ = t.h.LinkSetTxQLen(l, rec.TxQLen)
}

// explain adds what a bare errno means for a qdisc change.
func explain(err error) error {
	switch {
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("%w (needs root or CAP_NET_ADMIN)", err)
	case errors.Is(err, unix.ENOENT):
		return fmt.Errorf("%w (the kernel lacks this qdisc kind)", err)
	}
	return err
}
