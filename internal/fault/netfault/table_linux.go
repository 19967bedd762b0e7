//go:build linux

package netfault

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/nftables"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/nft"
)

// The life of a fault whose whole state is one nftables table built from a
// partitionV1 (net.partition, and net.loss with its random drop): each step
// works from the receipt data alone, on a connection bound to the fault's
// namespace.

// prepareTable refuses when d's table already exists and checks that the
// kernel takes it (see probe), changing nothing.
func prepareTable(h *fault.Host, d *partitionV1) error {
	c, err := nft.Open(h.NetNSPath, 0)
	if err != nil {
		return err
	}
	defer c.Close()
	if exists, err := c.Exists(nftables.TableFamilyINet, d.Table); err != nil {
		return err
	} else if exists {
		return bulwark.Errorf(bulwark.ECONFLICT, "table inet %s already exists", d.Table)
	}
	return probe(c, d)
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

// createTable creates d's whole table in one atomic batch and records in d
// when its elements expire and the handles of its rules; the caller stores
// d in the receipt.
func createTable(h *fault.Host, r *fault.Receipt, d *partitionV1) error {
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
	d.RuleHandles, err = c.RuleHandles(t)
	return err
}

// verifyTable reads d's table back and compares it with d; on a match it
// returns describe's evidence and the table read back.
func verifyTable(h *fault.Host, r *fault.Receipt, d *partitionV1) ([]bulwark.Evidence, *nft.State, error) {
	want, st, err := readTable(h, r, d)
	if err != nil {
		return []bulwark.Evidence{fault.Evidence("nftables", false, "read back: %v", err)}, nil, err
	}
	if diffs := nft.Compare(want, st); len(diffs) > 0 {
		err := fmt.Errorf("table inet %s differs from the fault: %s", d.Table, strings.Join(diffs, "; "))
		return []bulwark.Evidence{fault.Evidence("nftables", false, "%v", err)}, st, err
	}
	return describe(d, st, r), st, nil
}

// tableStatus reports drift of d's table (see Partition.Status); kind names
// the fault's kind in the error.
func tableStatus(kind string, h *fault.Host, r *fault.Receipt, d *partitionV1) ([]bulwark.Evidence, *nft.State, error) {
	want, st, err := readTable(h, r, d)
	if err != nil {
		return []bulwark.Evidence{fault.Evidence("nftables", false, "read back: %v", err)}, nil, err
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
		err := fmt.Errorf("%s drifted: %s", kind, strings.Join(drift, "; "))
		return []bulwark.Evidence{fault.Evidence("drift", false, "%v", err)}, st, err
	}
	ev := describe(d, st, r)
	if expired {
		ev = append(ev, fault.Evidence("kernel-expiry", true, "the elements expired in the kernel at %s; the rules are inert until the sweep deletes the table", d.KernelExpiry.Format(time.RFC3339Nano)))
	}
	return ev, st, nil
}

// deleteTable deletes the named table. A missing table, or a namespace that
// is gone with all its rules, is recovered already.
func deleteTable(h *fault.Host, r *fault.Receipt, table string) error {
	c, err := open(h, r)
	if errors.Is(err, nft.ErrNetNSGone) {
		return nil
	}
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Delete(nftables.TableFamilyINet, table)
	return err
}

// tableGone checks on a fresh connection that the named table is gone.
func tableGone(h *fault.Host, r *fault.Receipt, table string) ([]bulwark.Evidence, error) {
	c, err := open(h, r)
	if errors.Is(err, nft.ErrNetNSGone) {
		return []bulwark.Evidence{fault.Evidence("nftables", true, "network namespace gone, and table inet %s with it", table)}, nil
	}
	if err != nil {
		return nil, err
	}
	defer c.Close()
	exists, err := c.Exists(nftables.TableFamilyINet, table)
	if err != nil {
		return nil, err
	}
	if exists {
		err := fmt.Errorf("table inet %s is still there", table)
		return []bulwark.Evidence{fault.Evidence("nftables", false, "%v", err)}, err
	}
	return []bulwark.Evidence{fault.Evidence("nftables", true, "table inet %s absent", table)}, nil
}

// readTable rebuilds the table d describes and reads it from the kernel on
// a fresh connection (nil when it is absent).
func readTable(h *fault.Host, r *fault.Receipt, d *partitionV1) (*nft.Table, *nft.State, error) {
	want, err := d.table()
	if err != nil {
		return nil, nil, err
	}
	c, err := open(h, r)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	st, err := c.Read(want.Family, want.Name)
	if err != nil {
		return nil, nil, err
	}
	return want, st, nil
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
