package netfault

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(Partition{}) }

// expirySlack is how much longer than the fault's duration the kernel keeps
// the cut addresses: the duration starts only after Verify, and the guard
// should recover before the kernel's backstop fires.
const expirySlack = time.Second

// tablePrefix starts the name of every table a partition fault creates.
const tablePrefix = "bulwark_"

// Partition is net.partition: nftables rules in a table of the fault's own
// drop or reject traffic by remote address, service port, protocol and
// direction, with the management plane excluded.
type Partition struct{}

// partitionV1 is net.partition's receipt data, version 1. Everything the
// rules are built from is recorded, so that Verify, Status and Recover in
// any later process see the same table the fault created, whatever the
// host's configuration says by then.
type partitionV1 struct {
	// Table is the fault's table, family inet: the whole undo record.
	Table string `json:"table"`
	// Destinations are the remote prefixes; empty means everything.
	Destinations []netip.Prefix `json:"destinations,omitempty"`
	// Resolved says what each --destination host name resolved to at
	// inject; its addresses are in Destinations.
	Resolved map[string][]netip.Addr `json:"resolved,omitempty"`
	Port     string                  `json:"port,omitempty"`
	// SourcePort, when set, also matches the source port (the shaping
	// kinds' and net.loss's --source-port).
	SourcePort string `json:"sourcePort,omitempty"`
	Protocol   string `json:"protocol"`
	Direction  string `json:"direction"`
	Action     string `json:"action"`
	// The management plane as excluded at inject.
	ManagementPorts    []uint16       `json:"managementPorts,omitempty"`
	ManagementNetworks []netip.Prefix `json:"managementNetworks,omitempty"`
	// ElementTimeout is the kernel-side timeout of the cut addresses; zero
	// when the kernel refused timeouts (TimeoutNote says why) or the fault
	// has no duration.
	ElementTimeout bulwark.Duration `json:"elementTimeout,omitempty"`
	TimeoutNote    string           `json:"timeoutNote,omitempty"`
	// Set by Apply: when the elements expire in the kernel (wall clock), and
	// the handles of the rules it created, by chain.
	KernelExpiry *time.Time          `json:"kernelExpiry,omitempty"`
	RuleHandles  map[string][]uint64 `json:"ruleHandles,omitempty"`

	// randomDrop, when non-zero, makes the rules drop a matching packet only
	// with probability randomDrop/lossModulus. net.loss sets it from its own
	// receipt; it is never part of a net.partition receipt.
	randomDrop uint32
	// classify, when set, makes the rules classify packets instead of
	// cutting them: a matching packet leaving through one of these
	// interfaces gets skb->priority set to that interface's fault class.
	// The shaping kinds set it from their own receipt.
	classify []ifClass
}

// ifClass is the htb class a shaping fault owns on one interface.
type ifClass struct {
	Index   int
	ClassID uint32
}

// Info implements fault.Kind.
func (Partition) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             "net.partition",
		Summary:        "Drop or reject traffic by remote address, port, protocol and direction (nftables), management plane excluded",
		SummaryZH:      "网络分区：按远端地址、端口、协议和方向丢弃或拒绝流量（nftables），不影响管理通道",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesKernel,
		ReceiptVersion: 1,
		Composes:       true,
		NewParams:      func() any { return new(PartitionParams) },
	}
}

// tableName returns the table of the fault with the given id.
func tableName(id string) (string, error) {
	if !bulwark.ValidID(id) {
		return "", fmt.Errorf("fault id %q is not a UUID", id)
	}
	return tablePrefix + strings.ReplaceAll(id, "-", ""), nil
}

// newPartitionV1 computes the receipt data of a fault, without the kernel
// timeout decision, which needs a probe.
func newPartitionV1(h *fault.Host, req fault.Request, p *PartitionParams) (*partitionV1, error) {
	name, err := tableName(req.ID)
	if err != nil {
		return nil, err
	}
	d := &partitionV1{
		Table: name, Port: p.Port.String(),
		Protocol: p.Protocol, Direction: p.Direction, Action: p.Action,
		ManagementPorts: h.Management.TCPPorts,
	}
	var err2 error
	d.Destinations, d.Resolved, err2 = resolve(p.Destination)
	if err2 != nil {
		return nil, err2
	}
	for _, n := range h.Management.Networks {
		d.ManagementNetworks = append(d.ManagementNetworks, n.Masked())
	}
	if req.Duration > 0 {
		d.ElementTimeout = bulwark.Duration(req.Duration + expirySlack)
	}
	return d, nil
}

// resource names what a fault changes: its own table, so partition faults
// never conflict with one another.
func (d *partitionV1) resource() string { return "nftables:inet " + d.Table }

// decode reads receipt data of any version this binary knows.
func decode(r *fault.Receipt) (*partitionV1, error) {
	if r.Version != 1 {
		return nil, fmt.Errorf("net.partition receipt v%d is not known to this binary: %w", r.Version, bulwark.ErrNewerReceipt)
	}
	var d partitionV1
	if err := r.Decode(&d); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(d.Table, tablePrefix) {
		return nil, fmt.Errorf("net.partition receipt names table %q, not one of bulwark's", d.Table)
	}
	return &d, nil
}

// summary describes what the fault cuts, for evidence: "drop tcp packets
// leaving for 127.0.0.1, destination port 8080".
func (d *partitionV1) summary() string { return d.Action + " " + d.flowText() }

// flowText describes the packets the fault's rules match: "tcp packets
// leaving for 127.0.0.1, destination port 8080".
func (d *partitionV1) flowText() string {
	dst := "everywhere"
	if len(d.Destinations) > 0 {
		parts := make([]string, len(d.Destinations))
		for i, p := range d.Destinations {
			parts[i] = bulwark.CIDR{Prefix: p}.String()
		}
		dst = strings.Join(parts, ", ")
	}
	proto := d.Protocol
	switch {
	case proto == ProtoAll && (d.Port != "" || d.SourcePort != ""):
		proto = "tcp and udp"
	case proto == ProtoAll:
		proto = "all"
	}
	dir := map[string]string{DirEgress: "leaving for", DirIngress: "arriving from", DirBoth: "to and from"}[d.Direction]
	port := ""
	if d.Port != "" {
		port = ", destination port " + d.Port
	}
	if d.SourcePort != "" {
		port += ", source port " + d.SourcePort
	}
	return fmt.Sprintf("%s packets %s %s%s%s", proto, dir, dst, port, d.resolvedText())
}

var (
	_ fault.Kind         = Partition{}
	_ fault.Availability = Partition{}
	_ fault.Statuser     = Partition{}
)

// resolvedText says what --destination host names resolved to at inject:
// " (db.example resolved to 10.0.0.5, fd00::5)".
func (d *partitionV1) resolvedText() string {
	if len(d.Resolved) == 0 {
		return ""
	}
	names := make([]string, 0, len(d.Resolved))
	for n := range d.Resolved {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		addrs := make([]string, len(d.Resolved[n]))
		for j, a := range d.Resolved[n] {
			addrs[j] = a.String()
		}
		parts[i] = n + " resolved to " + strings.Join(addrs, ", ")
	}
	return " (" + strings.Join(parts, "; ") + ")"
}
