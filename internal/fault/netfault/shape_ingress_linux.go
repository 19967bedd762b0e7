//go:build linux

package netfault

import (
	"errors"
	"fmt"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/tc"
)

// The ingress side of the shaping kinds: tc's ingress hook runs before
// netfilter, so an nftables rule cannot pick arriving packets for a qdisc;
// u32 filters on the interface's ingress qdisc redirect them to an ifb
// device of the fault's own instead (package tc). Filters have no
// kernel-side timeout: an ingress fault ends by the guard or the sweep.

// ingress is what the fault adds to each interface.
func (d *shapeV1) ingress() (tc.Ingress, error) {
	port, err := d.portRange()
	if err != nil {
		return tc.Ingress{}, err
	}
	sport, err := d.sourcePortRange()
	if err != nil {
		return tc.Ingress{}, err
	}
	in := tc.Ingress{Major: d.Major, MgmtPorts: d.ManagementPorts, Leaf: d.leaf(),
		Flow: tc.Flow{Remote: d.Destinations, Protos: d.protocols(port, sport), FirstPort: port.First, LastPort: port.Last,
			FirstSrcPort: sport.First, LastSrcPort: sport.Last}}
	if len(d.ManagementNetworks) > 0 {
		in.MgmtNets = []tc.Flow{{Remote: d.ManagementNetworks}}
	}
	return in, nil
}

func applyIngress(h *fault.Host, r *fault.Receipt, d *shapeV1) error {
	in, err := d.ingress()
	if err != nil {
		return err
	}
	for _, l := range d.Links {
		_, err := withTree(h, r, l.Name, func(t *tc.Tree) (uint16, error) { return 0, t.AddIngress(in) })
		if err != nil {
			return errors.Join(err, removeIngress(h, r, d))
		}
	}
	return nil
}

func removeIngress(h *fault.Host, r *fault.Receipt, d *shapeV1) error {
	var errs []error
	for _, l := range d.Links {
		_, err := withTree(h, r, l.Name, func(t *tc.Tree) (uint16, error) { return 0, t.RemoveIngress(d.Major) })
		if err != nil && !errors.Is(err, tc.ErrLinkGone) && !errors.Is(err, tc.ErrNetNSGone) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func readIngress(h *fault.Host, r *fault.Receipt, link string, major uint16) (tc.IngressState, error) {
	var st tc.IngressState
	_, err := withTree(h, r, link, func(t *tc.Tree) (uint16, error) {
		var err error
		st, err = t.ReadIngress(major)
		return 0, err
	})
	return st, err
}

// ingressEvidence reads each interface's filters and ifb class back.
func (d *shapeV1) ingressEvidence(h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	ev := []bulwark.Evidence{fault.Evidence("tc", true, "%s", d.summary()),
		fault.Evidence("kernel-expiry", true, "none: ingress filters have no kernel-side timeout; the guard or the sweep ends the fault")}
	for _, l := range d.Links {
		st, err := readIngress(h, r, l.Name, d.Major)
		if err == nil {
			err = d.compareIngress(l, st)
		}
		if err != nil {
			return append(ev, fault.Evidence("ingress "+l.Name, false, "%v", err)), err
		}
		ev = append(ev, fault.Evidence("ingress "+l.Name, true, "%d redirect and %d management filter entries read back; ifb %s class %x:%x (rate %s, leaf %s%s): %d packets sent, %d dropped so far",
			st.Redirects, st.Passes, tc.IfbName(d.Major), tc.Major, st.Class.Minor, bulwark.BitRate(st.Class.Rate), st.Class.Leaf, netemText(st.Class.Netem), st.Class.Sent, st.Class.Dropped))
	}
	return append(ev, managementEvidence(&d.partitionV1)), nil
}

func (d *shapeV1) compareIngress(l shapeLink, st tc.IngressState) error {
	switch {
	case st.Redirects == 0:
		return fmt.Errorf("the fault's redirect filters on %s are gone", l.Name)
	case (len(d.ManagementPorts) > 0 || len(d.ManagementNetworks) > 0) && st.Passes == 0:
		return fmt.Errorf("the fault's management filters on %s are gone", l.Name)
	case !st.Ifb:
		return fmt.Errorf("the fault's ifb device %s is gone", tc.IfbName(d.Major))
	}
	return d.compare(shapeLink{Name: tc.IfbName(d.Major)}, st.Class)
}

// ingressGone checks that the fault's filters and ifb device are gone.
func ingressGone(h *fault.Host, r *fault.Receipt, d *shapeV1) ([]bulwark.Evidence, error) {
	var ev []bulwark.Evidence
	for _, l := range d.Links {
		st, err := readIngress(h, r, l.Name, d.Major)
		switch {
		case errors.Is(err, tc.ErrLinkGone), errors.Is(err, tc.ErrNetNSGone):
			ev = append(ev, fault.Evidence("ingress "+l.Name, true, "interface gone, and the fault's filters with it"))
		case err != nil:
			return ev, err
		case st.Redirects > 0 || st.Passes > 0 || st.Ifb:
			err := fmt.Errorf("on %s: %d redirect and %d management filter entries left, ifb %s present=%t", l.Name, st.Redirects, st.Passes, tc.IfbName(d.Major), st.Ifb)
			return append(ev, fault.Evidence("ingress "+l.Name, false, "%v", err)), err
		default:
			ev = append(ev, fault.Evidence("ingress "+l.Name, true, "the fault's filters and ifb device %s are gone", tc.IfbName(d.Major)))
		}
	}
	return ev, nil
}
