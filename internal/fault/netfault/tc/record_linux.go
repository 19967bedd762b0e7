//go:build linux

package tc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vishvananda/netlink"
)

// record is what the first fault on an interface saves before replacing
// its root: enough to put the tree back exactly.
type record struct {
	Link       string `json:"link"`
	Index      int    `json:"index"`
	NetNSInode uint64 `json:"netnsInode"`
	// Default is true when the root was the kernel's default (handle 0);
	// restoring it means deleting Bulwark's root.
	Default bool `json:"default"`
	// TxQLen is the link's transmit queue length: the kernel raises a
	// zero one (veth, noqueue devices) when a queueing root is attached.
	TxQLen int `json:"txqlen"`
	// Qdiscs lists the root and every qdisc under it, parents first;
	// Classes every class, parents first.
	Qdiscs  []object `json:"qdiscs,omitempty"`
	Classes []object `json:"classes,omitempty"`
}

// object is one qdisc or class as the library describes it.
type object struct {
	Type   string          `json:"type"`
	Handle uint32          `json:"handle"`
	Parent uint32          `json:"parent"`
	Attrs  json.RawMessage `json:"attrs"`
}

// restorable are the qdisc kinds whose every attribute the library both
// reads and writes, so a tree of them can be recreated exactly.
var restorable = map[string]bool{"tbf": true, "htb": true, "netem": true}

// snapshot reads the link's root tree into a record, or says why it cannot
// be recreated exactly.
func (t *Tree) snapshot(root netlink.Qdisc) (*record, error) {
	rec := &record{Link: t.name(), Index: t.link.Attrs().Index, NetNSInode: t.nsInode, TxQLen: t.link.Attrs().TxQLen}
	if in, err := t.readIngressRecord(); err == nil && in.Created {
		rec.TxQLen = in.TxQLen // the ingress qdisc bulwark attached raised it
	}
	if root == nil || root.Attrs().Handle == 0 {
		rec.Default = true
		return rec, nil
	}
	qs, err := t.h.QdiscList(t.link)
	if err != nil {
		return nil, fmt.Errorf("list qdiscs of %s: %w", t.name(), err)
	}
	classes, err := t.h.ClassList(t.link, 0)
	if err != nil {
		return nil, fmt.Errorf("list classes of %s: %w", t.name(), err)
	}
	inTree := map[uint32]bool{netlink.HANDLE_ROOT: true}
	for _, c := range classes {
		inTree[c.Attrs().Handle] = true
	}
	for _, q := range qs {
		a := q.Attrs()
		if !inTree[a.Parent] {
			continue // ingress, clsact: not part of the root tree
		}
		if !restorable[q.Type()] {
			return nil, fmt.Errorf("interface %s has a %s qdisc %s under its root, which bulwark cannot recreate exactly, so it does not replace the root (remove it, or use a default root)", t.name(), q.Type(), netlink.HandleStr(a.Handle))
		}
		if err := t.noFilters(a.Handle); err != nil {
			return nil, err
		}
		o, err := newObject(q.Type(), a.Handle, a.Parent, q)
		if err != nil {
			return nil, err
		}
		rec.Qdiscs = append(rec.Qdiscs, o)
	}
	qdiscKind := map[uint32]string{}
	for _, q := range qs {
		qdiscKind[q.Attrs().Handle] = q.Type()
	}
	for _, c := range classes {
		a := c.Attrs()
		if k := qdiscKind[a.Handle&0xffff0000]; k != "htb" && restorable[k] {
			continue // a classful qdisc's built-in class (tbf 7:1): recreated with it
		}
		if c.Type() != "htb" {
			return nil, fmt.Errorf("interface %s has a %s class %s, which bulwark cannot recreate exactly", t.name(), c.Type(), netlink.HandleStr(a.Handle))
		}
		if err := t.noFilters(a.Handle); err != nil {
			return nil, err
		}
		o, err := newObject(c.Type(), a.Handle, a.Parent, c)
		if err != nil {
			return nil, err
		}
		rec.Classes = append(rec.Classes, o)
	}
	rec.Qdiscs, rec.Classes = parentsFirst(rec.Qdiscs, rec.Classes)
	return rec, nil
}

// noFilters refuses a tree with tc filters: bulwark does not recreate them.
func (t *Tree) noFilters(parent uint32) error {
	fs, err := t.h.FilterList(t.link, parent)
	if err != nil {
		return fmt.Errorf("list filters of %s under %s: %w", t.name(), netlink.HandleStr(parent), err)
	}
	if len(fs) > 0 {
		return fmt.Errorf("interface %s has %d tc filter(s) under %s (first: %s), which bulwark does not recreate, so it does not replace the root", t.name(), len(fs), netlink.HandleStr(parent), fs[0].Type())
	}
	return nil
}

func newObject(typ string, handle, parent uint32, v any) (object, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return object{}, fmt.Errorf("encode %s %s: %w", typ, netlink.HandleStr(handle), err)
	}
	return object{Type: typ, Handle: handle, Parent: parent, Attrs: b}, nil
}

// parentsFirst orders the qdiscs and classes so that each comes after its
// parent: the root qdisc, then classes level by level (a top class reads
// back with parent "root"), then leaf qdiscs.
func parentsFirst(qs, cs []object) ([]object, []object) {
	have := map[uint32]bool{netlink.HANDLE_ROOT: true}
	var outQ, outC []object
	for _, q := range qs {
		if q.Parent == netlink.HANDLE_ROOT {
			outQ = append(outQ, q)
			have[q.Handle] = true
		}
	}
	for added := true; added; {
		added = false
		for _, c := range cs {
			if !have[c.Handle] && have[c.Parent] {
				outC = append(outC, c)
				have[c.Handle], added = true, true
			}
		}
	}
	for _, q := range qs {
		if q.Parent != netlink.HANDLE_ROOT {
			outQ = append(outQ, q)
		}
	}
	return outQ, outC
}

// writeRecord saves rec and fsyncs it and its directory before the caller
// changes the kernel.
func (t *Tree) writeRecord(rec *record) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	tmp := t.record + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
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
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, t.record); err != nil {
		return err
	}
	return syncDir(filepath.Dir(t.record))
}

// readRecord returns the saved record, nil when there is none.
func (t *Tree) readRecord() (*record, error) {
	b, err := os.ReadFile(t.record)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("qdisc record %s: %w", t.record, err)
	}
	return &rec, nil
}

func (t *Tree) removeRecord() error {
	if err := os.Remove(t.record); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return syncDir(filepath.Dir(t.record))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
