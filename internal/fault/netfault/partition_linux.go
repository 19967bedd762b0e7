//go:build linux

package netfault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/nftables"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/nft"
)

// Available reports whether nf_tables can be reached over netlink in the
// host's network namespace (root or CAP_NET_ADMIN, a kernel with nf_tables).
func (Partition) Available(ctx context.Context, h *fault.Host) error {
	c, err := nft.Open(h.NetNSPath, 0)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ListTables(); err != nil {
		return err
	}
	return nil
}

// Prepare computes the fault's table and its undo record (the table's name
// and family) and checks that the kernel accepts the table, with element
// timeouts if it can, by sending it under another name together with its
// deletion in one atomic batch: the kernel ends up exactly as it was. It
// refuses when the fault's table already exists.
func (k Partition) Prepare(ctx context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*PartitionParams)
	if !ok {
		return nil, fmt.Errorf("prepare net.partition: params are %T", req.Params)
	}
	d, err := newPartitionV1(h, req, p)
	if err != nil {
		return nil, err
	}
	c, err := nft.Open(h.NetNSPath, 0)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if exists, err := c.Exists(nftables.TableFamilyINet, d.Table); err != nil {
		return nil, err
	} else if exists {
		return nil, bulwark.Errorf(bulwark.ECONFLICT, "table inet %s already exists", d.Table)
	}
	if err := probe(c, d); err != nil {
		return nil, err
	}
	return fault.NewReceipt(k.Info(), d.resource(), d)
}

// probe checks that the kernel takes d's table. When it refuses element
// timeouts but takes the table without them, d falls back to no timeouts
// and records why.
func probe(c *nft.Conn, d *partitionV1) error {
	t, err := d.table()
	if err != nil {
		return err
	}
	err = c.Probe(t)
	if err == nil || d.ElementTimeout == 0 {
		return err
	}
	timed := d.ElementTimeout
	d.ElementTimeout = 0
	t, _ = d.table()
	if err2 := c.Probe(t); err2 != nil {
		return fmt.Errorf("kernel refuses the partition rules: %w", err2)
	}
	d.TimeoutNote = fmt.Sprintf("the kernel refused a %v timeout on interval set elements (%v); the rules stay until the guard or the sweep removes them", timed, err)
	return nil
}

// Apply creates the whole table in one atomic batch, then records when its
// elements expire and its rule handles in the receipt.
func (Partition) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decode(r)
	if err != nil {
		return err
	}
	t, err := d.table()
	if err != nil {
		return err
	}
	c, err := open(h, r)
	if err != nil {
		return err
	}
	defer c.Close()
	start := time.Now()
	if err := c.Create(t); err != nil {
		return err
	}
	if d.ElementTimeout > 0 {
		exp := start.Add(d.ElementTimeout.Std()).UTC()
		d.KernelExpiry = &exp
	}
	if d.RuleHandles, err = c.RuleHandles(t); err != nil {
		return err
	}
	return r.Set(d)
}

// Verify reads the table back on a fresh connection and compares it with
// what the receipt describes: chains, hooks, priorities, every rule, every
// set and element, and the elements' timeouts.
func (Partition) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, want, st, err := readBack(h, r)
	if err != nil {
		return []bulwark.Evidence{fault.Evidence("nftables", false, "read back: %v", err)}, err
	}
	if diffs := nft.Compare(want, st); len(diffs) > 0 {
		err := fmt.Errorf("table inet %s differs from the fault: %s", d.Table, strings.Join(diffs, "; "))
		return []bulwark.Evidence{fault.Evidence("nftables", false, "%v", err)}, err
	}
	return describe(d, st, r), nil
}

// Recover deletes the fault's table. A missing table, or a namespace that is
// gone with all its rules, is recovered already.
func (Partition) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decode(r)
	if err != nil {
		return err
	}
	c, err := open(h, r)
	if errors.Is(err, nft.ErrNetNSGone) {
		return nil
	}
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Delete(nftables.TableFamilyINet, d.Table)
	return err
}

// VerifyRecovered checks on a fresh connection that the table is gone.
func (Partition) VerifyRecovered(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decode(r)
	if err != nil {
		return nil, err
	}
	c, err := open(h, r)
	if errors.Is(err, nft.ErrNetNSGone) {
		return []bulwark.Evidence{fault.Evidence("nftables", true, "network namespace gone, and table inet %s with it", d.Table)}, nil
	}
	if err != nil {
		return nil, err
	}
	defer c.Close()
	exists, err := c.Exists(nftables.TableFamilyINet, d.Table)
	if err != nil {
		return nil, err
	}
	if exists {
		err := fmt.Errorf("table inet %s is still there", d.Table)
		return []bulwark.Evidence{fault.Evidence("nftables", false, "%v", err)}, err
	}
	return []bulwark.Evidence{fault.Evidence("nftables", true, "table inet %s absent", d.Table)}, nil
}

// Status reports drift: the table, a chain, a rule or a set changed or
// removed by someone else, or rules replaced (new handles). Elements that
// the kernel expired after the fault's deadline are not drift: the fault is
// over and only waits for the sweep.
func (Partition) Status(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, want, st, err := readBack(h, r)
	if err != nil {
		return []bulwark.Evidence{fault.Evidence("nftables", false, "read back: %v", err)}, err
	}
	expired := d.KernelExpiry != nil && !time.Now().Before(*d.KernelExpiry)
	var drift []string
	for _, diff := range nft.Compare(want, st) {
		if expired && strings.HasPrefix(diff, "set dst") {
			continue
		}
		drift = append(drift, diff)
	}
	drift = append(drift, handleDrift(d, st)...)
	if len(drift) > 0 {
		err := fmt.Errorf("net.partition drifted: %s", strings.Join(drift, "; "))
		return []bulwark.Evidence{fault.Evidence("drift", false, "%v", err)}, err
	}
	ev := describe(d, st, r)
	if expired {
		ev = append(ev, fault.Evidence("kernel-expiry", true, "the elements expired in the kernel at %s; the rules are inert until the sweep deletes the table", d.KernelExpiry.Format(time.RFC3339Nano)))
	}
	return ev, nil
}

// handleDrift compares the rule handles read back with those Apply recorded:
// a rule deleted and added again has a new handle.
func handleDrift(d *partitionV1, st *nft.State) []string {
	if st == nil || d.RuleHandles == nil {
		return nil
	}
	var out []string
	for _, ch := range st.Chains {
		var got []uint64
		for _, rule := range ch.Rules {
			got = append(got, rule.Handle)
		}
		if want := d.RuleHandles[ch.Name]; fmt.Sprint(got) != fmt.Sprint(want) {
			out = append(out, fmt.Sprintf("chain %s rule handles are %v, were %v", ch.Name, got, want))
		}
	}
	return out
}

// readBack decodes the receipt, rebuilds the table it describes and reads
// the table from the kernel on a fresh connection (nil when it is absent).
func readBack(h *fault.Host, r *fault.Receipt) (*partitionV1, *nft.Table, *nft.State, error) {
	d, err := decode(r)
	if err != nil {
		return nil, nil, nil, err
	}
	want, err := d.table()
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := open(h, r)
	if err != nil {
		return nil, nil, nil, err
	}
	defer c.Close()
	st, err := c.Read(want.Family, want.Name)
	if err != nil {
		return nil, nil, nil, err
	}
	return d, want, st, nil
}

// open connects to nf_tables in the namespace the fault lives in: the one
// its receipt records (checked by inode), or before the manager has recorded
// one, the host's.
func open(h *fault.Host, r *fault.Receipt) (*nft.Conn, error) {
	if r != nil && r.NetNS != nil {
		return nft.Open(r.NetNS.Path, r.NetNS.Inode)
	}
	return nft.Open(h.NetNSPath, 0)
}
