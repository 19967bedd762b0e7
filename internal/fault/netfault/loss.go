package netfault

import (
	"fmt"
	"math"
	"strings"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(Loss{}) }

// lossModulus is the range of the random number net.loss draws for each
// packet: a percentage is applied in steps of 0.01.
const lossModulus = 10000

// The mechanisms net.loss can record: netem where the kernel has it (a
// class of the fault's own in the interface's tree, see the shaping kinds),
// else, and always for --direction both, an nftables random drop.
const (
	MechanismNumgen = "nftables-numgen"
	MechanismNetem  = "netem"
)

// LossParams are the parameters of net.loss. The filters mean what they mean
// in net.partition, plus --protocol icmp (ICMPv6 for IPv6 destinations).
type LossParams struct {
	Percent     bulwark.Percent   `param:"percent,required" unit:"%" min:"0" max:"100" help:"share of the matching packets to drop, more than 0 and at most 100, in steps of 0.01"`
	Destination []Address         `param:"destination,target" help:"remote IPv4/IPv6 addresses, CIDRs (multicast groups too) or host names resolved at inject, comma-separated (default: everything)"`
	Port        bulwark.PortRange `param:"port" help:"service port or range: the destination port of packets leaving (egress) and of packets arriving (ingress); default: every port"`
	SourcePort  bulwark.PortRange `param:"source-port" help:"source port or range of the matching packets (default: every port)"`
	Protocol    string            `param:"protocol" default:"all" enum:"tcp,udp,icmp,all" help:"transport protocol to drop; with --port, all means tcp and udp"`
	Direction   string            `param:"direction" default:"egress" enum:"egress,ingress,both" help:"egress drops packets this host sends, ingress packets it receives; with both a packet the host sends to itself is drawn once (both always uses nftables)"`
	Correlation bulwark.Percent   `param:"correlation" unit:"%" min:"0" max:"100" help:"with netem, how much each packet's draw depends on the previous one's (bursty loss); the nftables fallback cannot, and says so"`
	Interface   []string          `param:"interface" help:"with netem, the interfaces to act on, comma-separated (default: the ones the routes to --destination use, or every non-loopback interface)"`
	Mechanism   string            `param:"mechanism" default:"auto" enum:"auto,netem,nftables" help:"auto: netem where the kernel has it (not with --direction both), else nftables; netem refuses where it is missing"`
}

// Validate checks what the tags cannot.
func (p *LossParams) Validate() error {
	if lossThreshold(p.Percent) < 1 {
		return &fault.ParamError{Param: "percent", Message: fmt.Sprintf("%s%% is not more than 0 (steps of 0.01)", p.Percent)}
	}
	if p.Protocol == ProtoICMP && !p.Port.IsZero() {
		return &fault.ParamError{Param: "port", Message: "icmp has no ports"}
	}
	if p.Protocol == ProtoICMP && !p.SourcePort.IsZero() {
		return &fault.ParamError{Param: "source-port", Message: "icmp has no ports"}
	}
	if p.Mechanism == "netem" && p.Direction == DirBoth {
		return &fault.ParamError{Param: "mechanism", Message: "netem acts on one direction; use --direction egress or ingress, or two faults"}
	}
	return (&PartitionParams{Destination: p.Destination}).Validate()
}

// lossThreshold is the number below which the random draw drops a packet.
func lossThreshold(p bulwark.Percent) uint32 {
	return uint32(math.Round(float64(p) * lossModulus / 100))
}

// Loss is net.loss: a share of the packets matching net.partition's filters
// (remote address, service port, protocol, direction) is dropped at random,
// with the management plane excluded. Without a netem engine, which is the
// network engine's to build, it always uses an nftables rule that draws a
// random number for each matching packet ("numgen random mod 10000 < N
// drop") in a table of the fault's own, as net.partition does, and its
// evidence says so and what the netem probe found.
type Loss struct{}

// lossV1 is net.loss's receipt data, version 1: the flow and its table as
// net.partition records them (Action is always drop), the share dropped and
// the mechanism chosen at inject.
type lossV1 struct {
	partitionV1
	Percent bulwark.Percent `json:"percent"`
	// Threshold is N in "numgen random mod 10000 < N".
	Threshold uint32 `json:"threshold"`
	Mechanism string `json:"mechanism"`
	// Netem says what the netem probe at inject found, and why that
	// mechanism was or was not used.
	Netem       string          `json:"netem"`
	Correlation bulwark.Percent `json:"correlation,omitempty"`
	// With MechanismNetem: the fault's mark and classes, as the shaping
	// kinds record them.
	Major uint16      `json:"major,omitempty"`
	Links []shapeLink `json:"links,omitempty"`
}

// Info implements fault.Kind.
func (Loss) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             "net.loss",
		Summary:        "Drop a share of packets by remote address, port, protocol and direction (netem, or an nftables random drop where netem is missing), management plane excluded",
		SummaryZH:      "网络丢包：按远端地址、端口、协议和方向随机丢弃一定比例的报文（netem；内核无 netem 时用 nftables 随机丢弃），不影响管理通道",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesKernel,
		ReceiptVersion: 1,
		Composes:       true,
		NewParams:      func() any { return new(LossParams) },
	}
}

// newLossV1 computes the receipt data of a fault, without the kernel probes.
func newLossV1(h *fault.Host, req fault.Request, p *LossParams) (*lossV1, error) {
	pd, err := newPartitionV1(h, req, &PartitionParams{
		Destination: p.Destination, Port: p.Port, Protocol: p.Protocol, Direction: p.Direction, Action: ActionDrop,
	})
	if err != nil {
		return nil, err
	}
	if !p.SourcePort.IsZero() {
		pd.SourcePort = p.SourcePort.String()
	}
	d := &lossV1{partitionV1: *pd, Percent: p.Percent, Threshold: lossThreshold(p.Percent), Mechanism: MechanismNumgen, Correlation: p.Correlation}
	d.randomDrop = d.Threshold
	return d, nil
}

// decodeLoss reads receipt data of any version this binary knows.
func decodeLoss(r *fault.Receipt) (*lossV1, error) {
	if r.Version != 1 {
		return nil, fmt.Errorf("net.loss receipt v%d is not known to this binary: %w", r.Version, bulwark.ErrNewerReceipt)
	}
	var d lossV1
	if err := r.Decode(&d); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(d.Table, tablePrefix) {
		return nil, fmt.Errorf("net.loss receipt names table %q, not one of bulwark's", d.Table)
	}
	switch d.Mechanism {
	case MechanismNetem:
		if len(d.Links) == 0 {
			return nil, fmt.Errorf("net.loss receipt with netem names no interface")
		}
		return &d, nil
	case MechanismNumgen:
	default:
		return nil, fmt.Errorf("net.loss receipt names mechanism %q, not known to this binary", d.Mechanism)
	}
	if d.Threshold < 1 || d.Threshold > lossModulus {
		return nil, fmt.Errorf("net.loss receipt has threshold %d, not in 1..%d", d.Threshold, lossModulus)
	}
	d.randomDrop = d.Threshold
	return &d, nil
}

// shape returns the fault as the shaping kinds see it (MechanismNetem).
func (d *lossV1) shape() *shapeV1 {
	s := &shapeV1{partitionV1: d.partitionV1, Major: d.Major, Links: d.Links,
		Netem: &netemV1{Loss: float32(d.Percent), LossCorr: float32(d.Correlation)}, What: d.what()}
	s.setClassify()
	return s
}

// fromShape takes back what preparing or applying the shape recorded.
func (d *lossV1) fromShape(s *shapeV1) {
	d.partitionV1, d.Major, d.Links = s.partitionV1, s.Major, s.Links
	d.partitionV1.classify = nil
}

func (d *lossV1) what() string {
	if d.Correlation > 0 {
		return fmt.Sprintf("drop %s%% (correlation %s%%)", d.Percent, d.Correlation)
	}
	return fmt.Sprintf("drop %s%%", d.Percent)
}

// summary describes what the fault drops: "drop 30% of udp packets leaving
// for 127.0.0.1, destination port 9000".
func (d *lossV1) summary() string {
	return fmt.Sprintf("drop %s%% of %s", d.Percent, d.flowText())
}

// mechanismText is the mechanism's evidence.
func (d *lossV1) mechanismText() string {
	if d.Mechanism == MechanismNetem {
		return fmt.Sprintf("netem loss in a class of the fault's own: %s", d.Netem)
	}
	text := fmt.Sprintf("nftables random drop (numgen random mod %d < %d), %s", lossModulus, d.Threshold, d.Netem)
	if d.Correlation > 0 {
		text += fmt.Sprintf("; --correlation %s%% is not applied: independent draws only", d.Correlation)
	}
	return text
}

var (
	_ fault.Kind         = Loss{}
	_ fault.Availability = Loss{}
	_ fault.Statuser     = Loss{}
)
