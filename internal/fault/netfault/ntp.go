package netfault

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(NTPBlock{}) }

// The time-protocol ports ntp.block drops.
const (
	portNTP        = 123 // NTP
	portPTPEvent   = 319 // PTP event messages
	portPTPGeneral = 320 // PTP general messages
)

// NTPBlockParams are the parameters of ntp.block.
type NTPBlockParams struct {
	Server []bulwark.CIDR `param:"server,target" help:"NTP/PTP servers or peers (addresses or CIDRs), comma-separated; default: every peer"`
	PTP    bool           `param:"ptp" default:"true" help:"also drop PTP: udp/319 (event) and udp/320 (general)"`
}

// Validate checks what the tags cannot.
func (p *NTPBlockParams) Validate() error {
	if len(p.Server) > maxDestinations {
		return &fault.ParamError{Param: "server", Message: fmt.Sprintf("%d addresses is more than %d; use CIDRs", len(p.Server), maxDestinations)}
	}
	for _, s := range p.Server {
		if !s.IsValid() {
			return &fault.ParamError{Param: "server", Message: "empty address"}
		}
	}
	return nil
}

// NTPBlock is ntp.block: nftables rules in a table of the fault's own drop
// UDP packets to or from the NTP port (and the PTP ports), in both
// directions, optionally only those exchanged with given servers. The
// management plane is accepted first, as in net.partition.
type NTPBlock struct{}

// ntpV1 is ntp.block's receipt data, version 1: everything the table is
// built from, so that any later process rebuilds the same table.
type ntpV1 struct {
	// Table is the fault's table, family inet: the whole undo record.
	Table string `json:"table"`
	// Servers are the remote prefixes; empty means every peer.
	Servers []netip.Prefix `json:"servers,omitempty"`
	// Ports are the UDP ports dropped as source or destination port.
	Ports              []uint16       `json:"ports"`
	ManagementPorts    []uint16       `json:"managementPorts,omitempty"`
	ManagementNetworks []netip.Prefix `json:"managementNetworks,omitempty"`
	// ElementTimeout, TimeoutNote, KernelExpiry and RuleHandles mean what
	// they mean in net.partition's receipt.
	ElementTimeout bulwark.Duration    `json:"elementTimeout,omitempty"`
	TimeoutNote    string              `json:"timeoutNote,omitempty"`
	KernelExpiry   *time.Time          `json:"kernelExpiry,omitempty"`
	RuleHandles    map[string][]uint64 `json:"ruleHandles,omitempty"`
}

// Info implements fault.Kind.
func (NTPBlock) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             "ntp.block",
		Summary:        "Drop NTP (udp/123) and PTP (udp/319, udp/320) traffic in both directions (nftables), management plane excluded",
		SummaryZH:      "阻断时间同步：双向丢弃 NTP（udp/123）和 PTP（udp/319、udp/320）报文（nftables），不影响管理通道",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesKernel,
		ReceiptVersion: 1,
		Composes:       true,
		NewParams:      func() any { return new(NTPBlockParams) },
	}
}

// newNTPV1 computes the receipt data of a fault. A server inside the
// management plane is refused: its packets would be accepted before any
// drop, and the fault would cut nothing.
func newNTPV1(h *fault.Host, req fault.Request, p *NTPBlockParams) (*ntpV1, error) {
	name, err := tableName(req.ID)
	if err != nil {
		return nil, err
	}
	d := &ntpV1{Table: name, Ports: []uint16{portNTP}, ManagementPorts: h.Management.TCPPorts}
	if p.PTP {
		d.Ports = append(d.Ports, portPTPEvent, portPTPGeneral)
	}
	for _, n := range h.Management.Networks {
		d.ManagementNetworks = append(d.ManagementNetworks, n.Masked())
	}
	for _, c := range p.Server {
		s := c.Prefix.Masked()
		for _, n := range d.ManagementNetworks {
			if n.Overlaps(s) {
				return nil, &fault.ParamError{Param: "server", Message: fmt.Sprintf("%s lies in the management network %s, which network faults never cut", c, n)}
			}
		}
		d.Servers = append(d.Servers, s)
	}
	if req.Duration > 0 {
		d.ElementTimeout = bulwark.Duration(req.Duration + expirySlack)
	}
	return d, nil
}

// resource names the fault's own table: ntp.block faults compose.
func (d *ntpV1) resource() string { return "nftables:inet " + d.Table }

// decodeNTP reads receipt data of any version this binary knows.
func decodeNTP(r *fault.Receipt) (*ntpV1, error) {
	if r.Version != 1 {
		return nil, fmt.Errorf("ntp.block receipt v%d is not known to this binary: %w", r.Version, bulwark.ErrNewerReceipt)
	}
	var d ntpV1
	if err := r.Decode(&d); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(d.Table, tablePrefix) {
		return nil, fmt.Errorf("ntp.block receipt names table %q, not one of bulwark's", d.Table)
	}
	if len(d.Ports) == 0 {
		return nil, fmt.Errorf("ntp.block receipt names no ports")
	}
	return &d, nil
}

// summary describes what the fault drops, for evidence.
func (d *ntpV1) summary() string {
	peers := "every peer"
	if len(d.Servers) > 0 {
		parts := make([]string, len(d.Servers))
		for i, p := range d.Servers {
			parts[i] = bulwark.CIDR{Prefix: p}.String()
		}
		peers = strings.Join(parts, ", ")
	}
	return fmt.Sprintf("drop udp packets with source or destination port in %v, to and from %s", d.Ports, peers)
}

// partition returns the fields ntp.block shares with net.partition's
// receipt, for the evidence helpers written for it.
func (d *ntpV1) partition() *partitionV1 {
	return &partitionV1{
		Table: d.Table, Destinations: d.Servers, Protocol: ProtoUDP, Direction: DirBoth, Action: ActionDrop,
		ManagementPorts: d.ManagementPorts, ManagementNetworks: d.ManagementNetworks,
		ElementTimeout: d.ElementTimeout, TimeoutNote: d.TimeoutNote, KernelExpiry: d.KernelExpiry,
		RuleHandles: d.RuleHandles,
	}
}

var (
	_ fault.Kind         = NTPBlock{}
	_ fault.Availability = NTPBlock{}
	_ fault.Statuser     = NTPBlock{}
)
