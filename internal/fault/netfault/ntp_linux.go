//go:build linux

package netfault

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/nft"
)

// setNTPPorts is the constant set of the time-protocol ports in an
// ntp.block table.
const setNTPPorts = "ntp_ports"

// table builds the table an ntp.block receipt describes: a pure function
// of the data, like net.partition's. Each chain accepts the management
// plane, then drops UDP to or from a peer in the (timed) address sets whose
// source or destination port is a time-protocol port: a client's query
// leaves for port 123 and its answer arrives from port 123, and a server's
// traffic is the same the other way round.
func (d *ntpV1) table() (*nft.Table, error) {
	t := &nft.Table{Family: nftables.TableFamilyINet, Name: d.Table}
	dst := d.Servers
	if len(dst) == 0 {
		dst = everything
	}
	fams := splitFamilies(dst)
	mgmt := splitFamilies(d.ManagementNetworks)
	if len(d.ManagementPorts) > 0 {
		t.Sets = append(t.Sets, nft.Set{Name: setMgmtPorts, Key: nft.KeyPort, Constant: true, Ports: d.ManagementPorts})
	}
	t.Sets = append(t.Sets, nft.Set{Name: setNTPPorts, Key: nft.KeyPort, Constant: true, Ports: d.Ports})
	for _, f := range []family{v4, v6} {
		if len(fams[f]) == 0 {
			continue
		}
		t.Sets = append(t.Sets, nft.Set{Name: f.dstSet(), Key: f.key(), Interval: true, Timeout: d.ElementTimeout.Std(), Prefixes: fams[f]})
		if len(mgmt[f]) > 0 {
			t.Sets = append(t.Sets, nft.Set{Name: f.mgmtSet(), Key: f.key(), Interval: true, Constant: true, Prefixes: mgmt[f]})
		}
	}
	for _, ch := range []nft.Chain{
		{Name: chainEgress, Hook: *nftables.ChainHookOutput, Priority: *nftables.ChainPriorityFilter},
		{Name: chainIngress, Hook: *nftables.ChainHookInput, Priority: *nftables.ChainPriorityFilter},
	} {
		ch.Rules = d.rules(ch.Name == chainIngress, fams, mgmt)
		t.Chains = append(t.Chains, ch)
	}
	return t, nil
}

func (d *ntpV1) rules(ingress bool, fams, mgmt map[family][]netip.Prefix) []nft.Rule {
	var out []nft.Rule
	if len(d.ManagementPorts) > 0 {
		for _, src := range []bool{true, false} {
			out = append(out, nft.NewRule(nft.L4Proto(unix.IPPROTO_TCP), nft.PortInSet(src, setMgmtPorts), nft.Accept()))
		}
	}
	for _, f := range []family{v4, v6} {
		if len(fams[f]) > 0 && len(mgmt[f]) > 0 {
			out = append(out, nft.NewRule(nft.NFProto(f == v6), nft.AddrInSet(f == v6, ingress, f.mgmtSet()), nft.Accept()))
		}
	}
	for _, f := range []family{v4, v6} {
		if len(fams[f]) == 0 {
			continue
		}
		for _, src := range []bool{false, true} {
			out = append(out, nft.NewRule(nft.NFProto(f == v6), nft.AddrInSet(f == v6, ingress, f.dstSet()),
				nft.L4Proto(unix.IPPROTO_UDP), nft.PortInSet(src, setNTPPorts), nft.Counter(), nft.Drop()))
		}
	}
	return out
}

// Available reports whether nf_tables can be reached, as for net.partition.
func (NTPBlock) Available(ctx context.Context, h *fault.Host) error {
	return Partition{}.Available(ctx, h)
}

// Prepare computes the fault's table and checks that the kernel takes it
// (with element timeouts if it can) in a batch that deletes it again, so
// nothing changes. It refuses when the fault's table already exists.
func (k NTPBlock) Prepare(ctx context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*NTPBlockParams)
	if !ok {
		return nil, fmt.Errorf("prepare ntp.block: params are %T", req.Params)
	}
	d, err := newNTPV1(h, req, p)
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
	if err := probeNTP(c, d); err != nil {
		return nil, err
	}
	return fault.NewReceipt(k.Info(), d.resource(), d)
}

// probeNTP is probe for ntp.block: without kernel timeouts on interval sets
// it falls back to elements without one and records why.
func probeNTP(c *nft.Conn, d *ntpV1) error {
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
		return fmt.Errorf("kernel refuses the ntp.block rules: %w", err2)
	}
	d.TimeoutNote = fmt.Sprintf("the kernel refused a %v timeout on interval set elements (%v); the rules stay until the guard or the sweep removes them", timed, err)
	return nil
}

// Apply creates the whole table in one atomic batch and records when its
// elements expire and its rule handles.
func (NTPBlock) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeNTP(r)
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
// the receipt: chains, hooks, rules, sets, elements and their timeouts.
func (NTPBlock) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, want, st, err := readBackNTP(h, r)
	if err != nil {
		return []bulwark.Evidence{fault.Evidence("nftables", false, "read back: %v", err)}, err
	}
	if diffs := nft.Compare(want, st); len(diffs) > 0 {
		err := fmt.Errorf("table inet %s differs from the fault: %s", d.Table, strings.Join(diffs, "; "))
		return []bulwark.Evidence{fault.Evidence("nftables", false, "%v", err)}, err
	}
	return describeNTP(d, st, r), nil
}

// Recover deletes the fault's table; a missing table or a namespace gone
// with its rules is recovered already.
func (NTPBlock) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeNTP(r)
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
func (NTPBlock) VerifyRecovered(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeNTP(r)
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

// Status reports drift (the table, a chain, a rule or a set changed or
// removed by someone else); elements the kernel expired after the deadline
// are not drift.
func (NTPBlock) Status(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, want, st, err := readBackNTP(h, r)
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
	drift = append(drift, handleDrift(d.partition(), st)...)
	if len(drift) > 0 {
		err := fmt.Errorf("ntp.block drifted: %s", strings.Join(drift, "; "))
		return []bulwark.Evidence{fault.Evidence("drift", false, "%v", err)}, err
	}
	ev := describeNTP(d, st, r)
	if expired {
		ev = append(ev, fault.Evidence("kernel-expiry", true, "the elements expired in the kernel at %s; the rules are inert until the sweep deletes the table", d.KernelExpiry.Format(time.RFC3339Nano)))
	}
	return ev, nil
}

// readBackNTP decodes the receipt, rebuilds its table and reads the table
// from the kernel (nil when it is absent).
func readBackNTP(h *fault.Host, r *fault.Receipt) (*ntpV1, *nft.Table, *nft.State, error) {
	d, err := decodeNTP(r)
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

// describeNTP is net.partition's evidence with ntp.block's summary first.
func describeNTP(d *ntpV1, st *nft.State, r *fault.Receipt) []bulwark.Evidence {
	ev := describe(d.partition(), st, r)
	ev[0].Detail = strings.Replace(ev[0].Detail, d.partition().summary(), d.summary(), 1)
	return ev
}
