//go:build linux

package tc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Ingress is one ingress fault on an interface. tc's ingress hook runs
// before netfilter, so packets are picked by u32 filters on the
// interface's ingress qdisc and redirected (mirred) to an ifb device of
// the fault's own, whose root holds the fault's class; the ifb hands them
// back to the interface's receive path once they leave its queue.
type Ingress struct {
	// Major is the fault's mark, as for Add: it names the ifb device and
	// the filters' priorities.
	Major uint16
	Flow  Flow
	// Management traffic is let through before any redirect: TCP ports
	// as source or destination, and remote networks.
	MgmtPorts []uint16
	MgmtNets  []Flow
	Leaf      Leaf
}

// IfbName returns the ifb device of the fault with the given mark.
func IfbName(major uint16) string { return fmt.Sprintf("bwk%04x", major) }

// The filter priorities of a fault, one per IP family (one u32 instance
// holds one protocol): its management passes come before every fault's
// redirects.
func passPrio(major uint16, v6 bool) uint16 { return 1 + 2*(major-MinLeafMajor) + b2u(v6) }
func redirectPrio(major uint16, v6 bool) uint16 {
	return 0x8000 + 2*(major-MinLeafMajor) + b2u(v6)
}

func b2u(b bool) uint16 {
	if b {
		return 1
	}
	return 0
}

// prios are all of a fault's filter priorities.
func prios(major uint16) []uint16 {
	return []uint16{passPrio(major, false), passPrio(major, true), redirectPrio(major, false), redirectPrio(major, true)}
}

// ingressRecord says whether bulwark created the interface's ingress
// qdisc, which then goes with the last bulwark filter.
type ingressRecord struct {
	Created bool `json:"created"`
	// TxQLen is the link's transmit queue length before: the kernel
	// raises a zero one when any qdisc is attached.
	TxQLen int `json:"txqlen"`
}

// AddIngress creates the fault's ifb device with its class, the ingress
// qdisc if the interface has none (clsact's ingress hook is used when
// present), and the fault's filters. On failure nothing of it is left.
func (t *Tree) AddIngress(in Ingress) error {
	if in.Major < MinLeafMajor || in.Major > MaxLeafMajor {
		return fmt.Errorf("leaf major %#x is outside %#x..%#x", in.Major, MinLeafMajor, MaxLeafMajor)
	}
	err := t.addIngress(in)
	if err != nil {
		if rerr := t.RemoveIngress(in.Major); rerr != nil {
			err = errors.Join(err, fmt.Errorf("undo: %w", rerr))
		}
	}
	return err
}

func (t *Tree) addIngress(in Ingress) error {
	ifb, err := t.addIfb(in)
	if err != nil {
		return err
	}
	parent, err := t.ingressParent(true)
	if err != nil {
		return err
	}
	idx := t.link.Attrs().Index
	// A u32 match with a class id and no action ends classification with
	// "ok": the packet goes on unredirected. (gact, the usual "action pass",
	// is a module many kernels lack.)
	var pass netlink.Action
	var filters []*netlink.U32
	for _, p := range in.MgmtPorts {
		for _, v6 := range []bool{false, true} {
			for _, src := range []bool{false, true} {
				m := u32Match{v6: v6, keys: []netlink.TcU32Key{protoKey(v6, unix.IPPROTO_TCP), portKey(v6, src, p, p)}}
				filters = append(filters, u32Filter(idx, parent, passPrio(in.Major, v6), m, pass))
			}
		}
	}
	for _, f := range in.MgmtNets {
		for _, m := range f.matches() {
			filters = append(filters, u32Filter(idx, parent, passPrio(in.Major, m.v6), m, pass))
		}
	}
	for _, m := range in.Flow.matches() {
		filters = append(filters, u32Filter(idx, parent, redirectPrio(in.Major, m.v6), m, netlink.NewMirredAction(ifb)))
	}
	for _, f := range filters {
		if err := t.h.FilterAdd(f); err != nil {
			return fmt.Errorf("add u32 filter prio %d on %s: %w", f.Priority, t.name(), explain(err))
		}
	}
	return nil
}

// addIfb creates the fault's ifb device, up, with an htb root whose
// default class 1:1 is the fault's class, and returns its index.
func (t *Tree) addIfb(in Ingress) (int, error) {
	name := IfbName(in.Major)
	if err := t.h.LinkAdd(&netlink.Ifb{LinkAttrs: netlink.LinkAttrs{Name: name, TxQLen: 1000}}); err != nil {
		return 0, fmt.Errorf("add ifb device %s: %w", name, explain(err))
	}
	l, err := t.h.LinkByName(name)
	if err != nil {
		return 0, fmt.Errorf("find ifb device %s: %w", name, err)
	}
	if err := t.h.LinkSetUp(l); err != nil {
		return 0, fmt.Errorf("set %s up: %w", name, err)
	}
	ifb := &Tree{h: t.h, ns: t.ns, link: l}
	root := netlink.NewHtb(netlink.QdiscAttrs{LinkIndex: l.Attrs().Index, Handle: netlink.MakeHandle(Major, 0), Parent: netlink.HANDLE_ROOT})
	root.Defcls = FirstMinor
	if err := t.h.QdiscAdd(root); err != nil {
		return 0, fmt.Errorf("add htb root on %s: %w", name, explain(err))
	}
	return l.Attrs().Index, ifb.addClass(FirstMinor, in.Leaf)
}

// ingressParent returns the parent the ingress filters hang off: clsact's
// ingress hook, or the ingress qdisc, which it creates (recording that it
// did, before) when create is set and there is none.
func (t *Tree) ingressParent(create bool) (uint32, error) {
	qs, err := t.h.QdiscList(t.link)
	if err != nil {
		return 0, fmt.Errorf("list qdiscs of %s: %w", t.name(), err)
	}
	for _, q := range qs {
		switch q.Type() {
		case "clsact":
			return netlink.HANDLE_MIN_INGRESS, nil
		case "ingress":
			return netlink.MakeHandle(0xffff, 0), nil
		}
	}
	if !create {
		return 0, nil
	}
	if err := t.writeIngressRecord(ingressRecord{Created: true, TxQLen: t.txqlenBefore()}); err != nil {
		return 0, err
	}
	q := &netlink.Ingress{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: t.link.Attrs().Index, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_INGRESS}}
	if err := t.h.QdiscAdd(q); err != nil {
		return 0, fmt.Errorf("add ingress qdisc on %s: %w", t.name(), explain(err))
	}
	return netlink.MakeHandle(0xffff, 0), nil
}

// RemoveIngress deletes the fault's filters and ifb device, and the ingress
// qdisc when bulwark created it and no bulwark filter is left. Idempotent.
func (t *Tree) RemoveIngress(major uint16) error {
	parent, err := t.ingressParent(false)
	if err != nil {
		return err
	}
	if parent != 0 {
		if err := t.delFilters(parent, prios(major)...); err != nil {
			return err
		}
	}
	if l, err := t.h.LinkByName(IfbName(major)); err == nil {
		if err := t.h.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("delete ifb device %s: %w", IfbName(major), err)
		}
	}
	return t.dropIngressQdisc(parent)
}

// delFilters deletes every filter at the given priorities under parent.
func (t *Tree) delFilters(parent uint32, prios ...uint16) error {
	fs, err := t.h.FilterList(t.link, parent)
	if err != nil {
		return fmt.Errorf("list filters of %s: %w", t.name(), err)
	}
	done := map[[2]uint16]bool{}
	for _, f := range fs {
		a := f.Attrs()
		key := [2]uint16{a.Priority, a.Protocol}
		if done[key] || !contains(prios, a.Priority) {
			continue
		}
		done[key] = true
		// Handle 0 deletes the whole u32 instance at this priority.
		del := &netlink.U32{FilterAttrs: netlink.FilterAttrs{LinkIndex: a.LinkIndex, Parent: parent, Priority: a.Priority, Protocol: a.Protocol}}
		if err := t.h.FilterDel(del); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("delete filters prio %d on %s: %w", a.Priority, t.name(), err)
		}
	}
	return nil
}

// dropIngressQdisc deletes the ingress qdisc bulwark created once no filter
// at all hangs off it (another fault's, or one someone added meanwhile).
func (t *Tree) dropIngressQdisc(parent uint32) error {
	rec, err := t.readIngressRecord()
	if err != nil || !rec.Created {
		return err
	}
	if parent == netlink.MakeHandle(0xffff, 0) {
		fs, err := t.h.FilterList(t.link, parent)
		if err != nil {
			return fmt.Errorf("list filters of %s: %w", t.name(), err)
		}
		if len(fs) > 0 {
			return nil
		}
		q := &netlink.Ingress{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: t.link.Attrs().Index, Handle: parent, Parent: netlink.HANDLE_INGRESS}}
		if err := t.h.QdiscDel(q); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("delete the ingress qdisc of %s: %w", t.name(), err)
		}
		if owned, err := t.Owned(); err == nil && !owned {
			t.restoreTxQLen(&record{TxQLen: rec.TxQLen})
		}
	}
	if err := os.Remove(t.record + ".ingress"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// txqlenBefore is the link's transmit queue length before bulwark attached
// anything: the egress record's when bulwark holds the root already.
func (t *Tree) txqlenBefore() int {
	if rec, err := t.readRecord(); err == nil && rec != nil {
		return rec.TxQLen
	}
	return t.link.Attrs().TxQLen
}

func contains(xs []uint16, x uint16) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (t *Tree) writeIngressRecord(rec ingressRecord) error {
	b, _ := json.Marshal(rec)
	f, err := os.OpenFile(t.record+".ingress", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (t *Tree) readIngressRecord() (ingressRecord, error) {
	var rec ingressRecord
	b, err := os.ReadFile(t.record + ".ingress")
	if errors.Is(err, os.ErrNotExist) {
		return rec, nil
	}
	if err != nil {
		return rec, err
	}
	return rec, json.Unmarshal(b, &rec)
}

// IngressState is an ingress fault as read back.
type IngressState struct {
	// Filters counts the fault's pass and redirect filters.
	Passes, Redirects int
	// Ifb is false when the fault's ifb device is gone; Class is its class.
	Ifb   bool
	Class ClassState
}

// ReadIngress returns the state of the fault with mark major.
func (t *Tree) ReadIngress(major uint16) (IngressState, error) {
	var st IngressState
	parent, err := t.ingressParent(false)
	if err != nil {
		return st, err
	}
	if parent != 0 {
		fs, err := t.h.FilterList(t.link, parent)
		if err != nil {
			return st, fmt.Errorf("list filters of %s: %w", t.name(), err)
		}
		for _, f := range fs {
			if _, ok := f.(*netlink.U32); !ok {
				continue
			}
			switch f.Attrs().Priority {
			case passPrio(major, false), passPrio(major, true):
				st.Passes++
			case redirectPrio(major, false), redirectPrio(major, true):
				st.Redirects++
			}
		}
	}
	l, err := t.h.LinkByName(IfbName(major))
	if err != nil {
		return st, nil
	}
	st.Ifb = true
	ifb := &Tree{h: t.h, link: l}
	st.Class, err = ifb.Read(major)
	return st, err
}
