//go:build linux

package netfault

import (
	"fmt"

	"github.com/vishvananda/netlink"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/tc"
)

// attrs returns the library's netem attributes.
func (n *netemV1) attrs() *netlink.NetemQdiscAttrs {
	return &netlink.NetemQdiscAttrs{
		Latency: n.LatencyUS, Jitter: n.JitterUS, DelayCorr: n.DelayCorr, Limit: netemLimit,
		Loss: n.Loss, LossCorr: n.LossCorr, Duplicate: n.Duplicate, DuplicateCorr: n.DuplicateCorr,
		ReorderProb: n.Reorder, ReorderCorr: n.ReorderCorr, Gap: n.Gap, CorruptProb: n.Corrupt, CorruptCorr: n.CorruptCorr,
	}
}

// evidence reads each interface's class back, compares it with the receipt
// and adds what it has done so far to the table's evidence; the first
// mismatch is an error.
func (d *shapeV1) evidence(h *fault.Host, r *fault.Receipt, ev []bulwark.Evidence) ([]bulwark.Evidence, error) {
	if len(ev) > 0 && ev[0].Check == "nftables" {
		ev[0].Detail = fmt.Sprintf("table inet %s read back: %s", d.Table, d.summary())
	}
	for _, l := range d.Links {
		st, err := readClass(h, r, l.Name, d.Major)
		if err == nil {
			err = d.compare(l, st)
		}
		if err != nil {
			return append(ev, fault.Evidence("qdisc "+l.Name, false, "%v", err)), err
		}
		ev = append(ev, fault.Evidence("qdisc "+l.Name, true, "class %x:%x read back (rate %s, leaf %s%s%s): %d packets sent, %d dropped so far",
			tc.Major, st.Minor, bulwark.BitRate(st.Rate), st.Leaf, netemText(st.Netem), d.distText(), st.Sent, st.Dropped))
	}
	return ev, nil
}

// compare says how a class read back differs from the receipt.
func (d *shapeV1) compare(l shapeLink, st tc.ClassState) error {
	want := d.Rate
	if want == 0 {
		want = tc.UnlimitedRate
	}
	switch {
	case !st.Present:
		return fmt.Errorf("the fault's class on %s is gone", l.Name)
	case l.Minor != 0 && st.Minor != l.Minor:
		return fmt.Errorf("the fault's leaf on %s hangs under class %x:%x, not %x:%x", l.Name, tc.Major, st.Minor, tc.Major, l.Minor)
	case st.Rate != want || st.Ceil != want:
		return fmt.Errorf("class %x:%x on %s has rate %d ceil %d bit/s, want %d", tc.Major, st.Minor, l.Name, st.Rate, st.Ceil, want)
	case (d.Netem != nil) != (st.Netem != nil):
		return fmt.Errorf("class %x:%x on %s has leaf %s, want netem=%t", tc.Major, st.Minor, l.Name, st.Leaf, d.Netem != nil)
	}
	if d.Netem == nil {
		return nil
	}
	w := netlink.NewNetem(netlink.QdiscAttrs{}, *d.Netem.attrs())
	g := st.Netem
	if w.Latency != g.Latency || w.Jitter != g.Jitter || w.DelayCorr != g.DelayCorr || w.Loss != g.Loss ||
		w.Duplicate != g.Duplicate || w.ReorderProb != g.ReorderProb || w.Gap != g.Gap || w.CorruptProb != g.CorruptProb {
		return fmt.Errorf("netem on %s is%s, want%s", l.Name, netemText(g), netemText(w))
	}
	return nil
}

// netemText describes a netem qdisc in the library's raw units.
func netemText(n *netlink.Netem) string {
	if n == nil {
		return ""
	}
	return fmt.Sprintf(" latency=%d jitter=%d ticks, loss=%d dup=%d reorder=%d gap=%d corrupt=%d (of 2^32)",
		n.Latency, n.Jitter, n.Loss, n.Duplicate, n.ReorderProb, n.Gap, n.CorruptProb)
}

// distText names the jitter distribution table sent, which the kernel does
// not dump.
func (d *shapeV1) distText() string {
	if d.Netem == nil || d.Netem.Distribution == "" || d.Netem.Distribution == "uniform" {
		return ""
	}
	return ", " + d.Netem.Distribution + " distribution table sent (not read back: netem does not dump it)"
}
