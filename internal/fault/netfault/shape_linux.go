//go:build linux

package netfault

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/tc"
)

// Available reports whether nf_tables can be reached and, for the netem
// kinds, whether the kernel can create a netem qdisc (probed once a minute
// in a scratch namespace).
func (k shapeKind) Available(ctx context.Context, h *fault.Host) error {
	if err := (Partition{}).Available(ctx, h); err != nil {
		return err
	}
	if !k.netem {
		return nil
	}
	if ok, _ := netemStatus(); !ok {
		return fmt.Errorf("needs the netem qdisc, which this kernel cannot create (sch_netem)")
	}
	return nil
}

// Prepare computes the fault's table and classes, picks the interfaces and
// the fault's mark in their qdisc trees, and checks that the kernel takes
// the table, changing nothing.
func (k shapeKind) Prepare(ctx context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	if err := (Partition{}).Available(ctx, h); err != nil {
		return nil, err
	}
	if ok, how := netemStatus(); k.netem && !ok {
		return nil, bulwark.Errorf(bulwark.EINVALID, "%s needs the netem qdisc: %s", k.info.ID, how)
	}
	d, f, err := newShapeV1(h, req)
	if err != nil {
		return nil, err
	}
	if err := d.prepare(h, f.Interface); err != nil {
		return nil, err
	}
	return fault.NewReceipt(k.info, d.resource(), d)
}

// prepare picks the interfaces and the fault's mark in their qdisc trees
// and checks that the kernel takes the fault's table, changing nothing.
func (d *shapeV1) prepare(h *fault.Host, ifnames []string) error {
	links, err := tc.Links(h.NetNSPath, 0, ifnames, d.Destinations)
	if err != nil {
		return &fault.ParamError{Param: "interface", Message: err.Error()}
	}
	for _, l := range links {
		d.Links = append(d.Links, shapeLink{Name: l.Name, Index: l.Index})
	}
	d.Major = tc.NewMajor()
	if d.Direction == DirIngress {
		d.ElementTimeout = 0
		return nil
	}
	// Probe with the classes the fault would get if it were alone.
	for i := range d.Links {
		d.Links[i].Minor = tc.FirstMinor
	}
	d.setClassify()
	err = prepareTable(h, &d.partitionV1)
	for i := range d.Links {
		d.Links[i].Minor = 0
	}
	d.classify = nil
	return err
}

// Apply gives the fault a class on each interface, then creates its table,
// whose rules put the matching packets into those classes. On failure it
// undoes what it did.
func (k shapeKind) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeShape(r)
	if err != nil {
		return err
	}
	if err := d.apply(h, r); err != nil {
		return err
	}
	return r.Set(d)
}

// apply changes the kernel and records the classes in d; the caller
// stores d in the receipt.
func (d *shapeV1) apply(h *fault.Host, r *fault.Receipt) error {
	if d.Direction == DirIngress {
		return applyIngress(h, r, d)
	}
	leaf := d.leaf()
	for i, l := range d.Links {
		minor, err := withTree(h, r, l.Name, func(t *tc.Tree) (uint16, error) {
			if t.Link().Attrs().Index != l.Index {
				return 0, fmt.Errorf("interface %s is now index %d, not %d", l.Name, t.Link().Attrs().Index, l.Index)
			}
			return t.Add(leaf)
		})
		if err != nil {
			return errors.Join(err, removeClasses(h, r, d))
		}
		d.Links[i].Minor = minor
	}
	d.setClassify()
	if err := createTable(h, r, &d.partitionV1); err != nil {
		return errors.Join(err, removeClasses(h, r, d))
	}
	return nil
}

// Verify reads the table and each class back and compares them with the
// receipt.
func (k shapeKind) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeShape(r)
	if err != nil {
		return []bulwark.Evidence{fault.Evidence("nftables", false, "read back: %v", err)}, err
	}
	return d.verify(h, r)
}

func (d *shapeV1) verify(h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	if d.Direction == DirIngress {
		return d.ingressEvidence(h, r)
	}
	ev, _, err := verifyTable(h, r, &d.partitionV1)
	if err != nil {
		return ev, err
	}
	return d.evidence(h, r, ev)
}

// Recover deletes the table first, so nothing is classified any more,
// then the fault's class on each interface; the last fault out restores
// the interface's tree. Missing pieces are recovered already.
func (k shapeKind) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeShape(r)
	if err != nil {
		return err
	}
	return d.recover(h, r)
}

func (d *shapeV1) recover(h *fault.Host, r *fault.Receipt) error {
	if d.Direction == DirIngress {
		return removeIngress(h, r, d)
	}
	if err := deleteTable(h, r, d.Table); err != nil {
		return err
	}
	return removeClasses(h, r, d)
}

// VerifyRecovered checks that the table and the fault's classes are gone.
func (k shapeKind) VerifyRecovered(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeShape(r)
	if err != nil {
		return nil, err
	}
	return d.gone(h, r)
}

func (d *shapeV1) gone(h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	if d.Direction == DirIngress {
		return ingressGone(h, r, d)
	}
	ev, err := tableGone(h, r, d.Table)
	if err != nil {
		return ev, err
	}
	for _, l := range d.Links {
		st, err := readClass(h, r, l.Name, d.Major)
		switch {
		case errors.Is(err, tc.ErrLinkGone), errors.Is(err, tc.ErrNetNSGone):
			ev = append(ev, fault.Evidence("qdisc "+l.Name, true, "interface gone, and the fault's class with it"))
		case err != nil:
			return ev, err
		case st.Present:
			err := fmt.Errorf("class %x:%x on %s is still there", tc.Major, st.Minor, l.Name)
			return append(ev, fault.Evidence("qdisc "+l.Name, false, "%v", err)), err
		default:
			ev = append(ev, fault.Evidence("qdisc "+l.Name, true, "the fault's class is gone"))
		}
	}
	return ev, nil
}

// Status reports drift of the table, as net.partition does, and of each
// class.
func (k shapeKind) Status(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeShape(r)
	if err != nil {
		return []bulwark.Evidence{fault.Evidence("nftables", false, "read back: %v", err)}, err
	}
	return d.status(h, r)
}

func (d *shapeV1) status(h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	if d.Direction == DirIngress {
		return d.ingressEvidence(h, r)
	}
	ev, _, err := tableStatus(r.Kind, h, r, &d.partitionV1)
	if err != nil {
		return ev, err
	}
	return d.evidence(h, r, ev)
}

// setClassify sets the classification the table is built with from the
// classes Apply recorded.
func (d *shapeV1) setClassify() {
	d.classify = nil
	for _, l := range d.Links {
		if l.Minor != 0 {
			d.classify = append(d.classify, ifClass{Index: l.Index, ClassID: tc.ClassHandle(l.Minor)})
		}
	}
}

// leaf is what the fault's class does.
func (d *shapeV1) leaf() tc.Leaf {
	l := tc.Leaf{Major: d.Major, Rate: d.Rate}
	if d.Netem != nil {
		l.Netem = d.Netem.attrs()
		if d.Netem.Distribution != "" && d.Netem.Distribution != "uniform" {
			l.Dist, _ = tc.DistTable(d.Netem.Distribution) // an unknown name fails in decodeShape
		}
	}
	return l
}

// removeClasses removes the fault's class from every interface; a gone
// interface or namespace took it along.
func removeClasses(h *fault.Host, r *fault.Receipt, d *shapeV1) error {
	var errs []error
	for _, l := range d.Links {
		_, err := withTree(h, r, l.Name, func(t *tc.Tree) (uint16, error) { return 0, t.Remove(d.Major) })
		if err != nil && !errors.Is(err, tc.ErrLinkGone) && !errors.Is(err, tc.ErrNetNSGone) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func readClass(h *fault.Host, r *fault.Receipt, link string, major uint16) (tc.ClassState, error) {
	var st tc.ClassState
	_, err := withTree(h, r, link, func(t *tc.Tree) (uint16, error) {
		var err error
		st, err = t.Read(major)
		return 0, err
	})
	return st, err
}

// withTree runs fn on the locked qdisc tree of link in the fault's
// namespace.
func withTree(h *fault.Host, r *fault.Receipt, link string, fn func(*tc.Tree) (uint16, error)) (uint16, error) {
	path, inode := h.NetNSPath, uint64(0)
	if r != nil && r.NetNS != nil {
		path, inode = r.NetNS.Path, r.NetNS.Inode
	}
	t, err := tc.Open(filepath.Join(h.StateDir, "tc"), path, inode, link)
	if err != nil {
		return 0, err
	}
	defer t.Close()
	return fn(t)
}
