//go:build linux

package netfault

import (
	"context"
	"fmt"

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
	if err := prepareTable(h, d); err != nil {
		return nil, err
	}
	return fault.NewReceipt(k.Info(), d.resource(), d)
}

// Apply creates the whole table in one atomic batch, then records when its
// elements expire and its rule handles in the receipt.
func (Partition) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decode(r)
	if err != nil {
		return err
	}
	if err := createTable(h, r, d); err != nil {
		return err
	}
	return r.Set(d)
}

// Verify reads the table back on a fresh connection and compares it with
// what the receipt describes: chains, hooks, priorities, every rule, every
// set and element, and the elements' timeouts.
func (Partition) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decode(r)
	if err != nil {
		return []bulwark.Evidence{fault.Evidence("nftables", false, "read back: %v", err)}, err
	}
	ev, _, err := verifyTable(h, r, d)
	return ev, err
}

// Recover deletes the fault's table. A missing table, or a namespace that is
// gone with all its rules, is recovered already.
func (Partition) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decode(r)
	if err != nil {
		return err
	}
	return deleteTable(h, r, d.Table)
}

// VerifyRecovered checks on a fresh connection that the table is gone.
func (Partition) VerifyRecovered(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decode(r)
	if err != nil {
		return nil, err
	}
	return tableGone(h, r, d.Table)
}

// Status reports drift: the table, a chain, a rule or a set changed or
// removed by someone else, or rules replaced (new handles). Elements that
// the kernel expired after the fault's deadline are not drift: the fault is
// over and only waits for the sweep.
func (Partition) Status(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decode(r)
	if err != nil {
		return []bulwark.Evidence{fault.Evidence("nftables", false, "read back: %v", err)}, err
	}
	ev, _, err := tableStatus("net.partition", h, r, d)
	return ev, err
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
