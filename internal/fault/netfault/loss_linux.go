//go:build linux

package netfault

import (
	"context"
	"fmt"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/nft"
)

// Available reports whether nf_tables can be reached, as for net.partition:
// the random drop needs nothing more (numgen is in every nf_tables kernel
// since 4.9).
func (Loss) Available(ctx context.Context, h *fault.Host) error {
	return Partition{}.Available(ctx, h)
}

// Prepare computes the fault's table, probes netem to record why the
// nftables random drop is used, and checks that the kernel takes the table
// in a batch that deletes it again, so nothing changes. It refuses when the
// fault's table already exists.
func (k Loss) Prepare(ctx context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*LossParams)
	if !ok {
		return nil, fmt.Errorf("prepare net.loss: params are %T", req.Params)
	}
	d, err := newLossV1(h, req, p)
	if err != nil {
		return nil, err
	}
	ok, how := netemStatus()
	switch {
	case p.Mechanism == "netem" && !ok:
		return nil, &fault.ParamError{Param: "mechanism", Message: "no netem on this kernel (" + how + ")"}
	case p.Mechanism == "nftables":
		d.Netem = "nftables chosen by --mechanism (netem: " + how + ")"
	case ok && p.Direction != DirBoth:
		d.Mechanism, d.Netem = MechanismNetem, "netem is available on this kernel ("+how+")"
		s := d.shape()
		if err := s.prepare(h, p.Interface); err != nil {
			return nil, err
		}
		d.fromShape(s)
		return fault.NewReceipt(k.Info(), d.resource(), d)
	case ok:
		d.Netem = "netem is available on this kernel (" + how + "), but --direction both is dropped by nftables"
	default:
		d.Netem = "no netem on this kernel (" + how + ")"
	}
	if err := prepareTable(h, &d.partitionV1); err != nil {
		return nil, err
	}
	return fault.NewReceipt(k.Info(), d.resource(), d)
}

// Apply creates the whole table in one atomic batch and records when its
// elements expire and its rule handles.
func (Loss) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeLoss(r)
	if err != nil {
		return err
	}
	if d.Mechanism == MechanismNetem {
		s := d.shape()
		if err := s.apply(h, r); err != nil {
			return err
		}
		d.fromShape(s)
		return r.Set(d)
	}
	if err := createTable(h, r, &d.partitionV1); err != nil {
		return err
	}
	return r.Set(d)
}

// Verify reads the table back on a fresh connection and compares it with
// the receipt, then says which mechanism drops and what the rules' counters
// show so far.
func (Loss) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeLoss(r)
	if err != nil {
		return []bulwark.Evidence{fault.Evidence("nftables", false, "read back: %v", err)}, err
	}
	if d.Mechanism == MechanismNetem {
		ev, err := d.shape().verify(h, r)
		return append(ev, fault.Evidence("mechanism", true, "%s", d.mechanismText())), err
	}
	ev, st, err := verifyTable(h, r, &d.partitionV1)
	if err != nil {
		return ev, err
	}
	return d.evidence(ev, st), nil
}

// Recover deletes the fault's table; a missing one is recovered already.
func (Loss) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeLoss(r)
	if err != nil {
		return err
	}
	if d.Mechanism == MechanismNetem {
		return d.shape().recover(h, r)
	}
	return deleteTable(h, r, d.Table)
}

// VerifyRecovered checks on a fresh connection that the table is gone.
func (Loss) VerifyRecovered(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeLoss(r)
	if err != nil {
		return nil, err
	}
	if d.Mechanism == MechanismNetem {
		return d.shape().gone(h, r)
	}
	return tableGone(h, r, d.Table)
}

// Status reports drift as net.partition does, and the share of matching
// packets dropped so far.
func (Loss) Status(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeLoss(r)
	if err != nil {
		return []bulwark.Evidence{fault.Evidence("nftables", false, "read back: %v", err)}, err
	}
	if d.Mechanism == MechanismNetem {
		ev, err := d.shape().status(h, r)
		return append(ev, fault.Evidence("mechanism", true, "%s", d.mechanismText())), err
	}
	ev, st, err := tableStatus("net.loss", h, r, &d.partitionV1)
	if err != nil {
		return ev, err
	}
	return d.evidence(ev, st), nil
}

// evidence turns net.partition's description of the table into net.loss's:
// its own summary first, then the mechanism and the drops counted.
func (d *lossV1) evidence(ev []bulwark.Evidence, st *nft.State) []bulwark.Evidence {
	if len(ev) > 0 && ev[0].Check == "nftables" {
		ev[0].Detail = fmt.Sprintf("table inet %s read back: %s", d.Table, d.summary())
	}
	ev = append(ev, fault.Evidence("mechanism", true, "%s", d.mechanismText()))
	seen, dropped := lossCounts(st)
	if seen == 0 {
		return append(ev, fault.Evidence("loss", true, "no matching packet yet"))
	}
	return append(ev, fault.Evidence("loss", true, "%d of %d matching packets dropped so far (%.1f%%, requested %s%%)",
		dropped, seen, 100*float64(dropped)/float64(seen), d.Percent))
}

// lossCounts sums the random-drop rules' counters: the first counts the
// packets a rule saw, the second those it dropped.
func lossCounts(st *nft.State) (seen, dropped uint64) {
	if st == nil {
		return 0, 0
	}
	for _, ch := range st.Chains {
		for _, r := range ch.Rules {
			if len(r.Counted) == 2 {
				seen += r.Counted[0]
				dropped += r.Counted[1]
			}
		}
	}
	return seen, dropped
}
