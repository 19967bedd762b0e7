package netfault

import (
	"fmt"
	"strings"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// The shaping kinds: net.delay, net.duplicate, net.corrupt, net.reorder
// (netem) and net.bandwidth (htb). They share one life (shape_linux.go):
// a class of the fault's own in Bulwark's root htb on each interface
// (package tc), and an nftables table of the fault's own that puts the
// packets matching its filters into that class.
func init() {
	for _, k := range shapeKinds {
		fault.Register(k)
	}
}

var shapeKinds = []shapeKind{
	{info: shapeInfo("net.delay", "Delay packets by remote address, port and protocol (netem), management plane excluded",
		"网络延迟：按远端地址、端口和协议为报文增加延迟（netem），不影响管理通道", func() any { return new(DelayParams) }), netem: true},
	{info: shapeInfo("net.duplicate", "Duplicate a share of packets by remote address, port and protocol (netem), management plane excluded",
		"网络报文重复：按远端地址、端口和协议重复一定比例的报文（netem），不影响管理通道", func() any { return new(DuplicateParams) }), netem: true},
	{info: shapeInfo("net.corrupt", "Corrupt a share of packets (a flipped bit) by remote address, port and protocol (netem), management plane excluded",
		"网络报文损坏：按远端地址、端口和协议使一定比例的报文出现比特错误（netem），不影响管理通道", func() any { return new(CorruptParams) }), netem: true},
	{info: shapeInfo("net.reorder", "Reorder a share of packets by remote address, port and protocol (netem), management plane excluded",
		"网络报文乱序：按远端地址、端口和协议使一定比例的报文乱序到达（netem），不影响管理通道", func() any { return new(ReorderParams) }), netem: true},
	{info: shapeInfo("net.bandwidth", "Cap the bandwidth of packets by remote address, port and protocol (htb), management plane excluded",
		"网络限速：按远端地址、端口和协议限制带宽（htb），不影响管理通道", func() any { return new(BandwidthParams) })},
}

func shapeInfo(id, summary, zh string, params func() any) fault.KindInfo {
	return fault.KindInfo{ID: id, Summary: summary, SummaryZH: zh, Platforms: []string{"linux"},
		Outlives: fault.OutlivesKernel, ReceiptVersion: 1, Composes: true, NewParams: params}
}

// shapeKind is one shaping kind; netem says whether it needs sch_netem.
type shapeKind struct {
	info  fault.KindInfo
	netem bool
}

// Info implements fault.Kind.
func (k shapeKind) Info() fault.KindInfo { return k.info }

// FlowParams are the filters every shaping kind takes, embedded in each
// kind's parameters (the schema follows embedded structs).
type FlowParams struct {
	Destination []Address         `param:"destination,target" help:"remote IPv4/IPv6 addresses, CIDRs (multicast groups too) or host names resolved at inject, comma-separated (default: everything)"`
	Port        bulwark.PortRange `param:"port" help:"destination port or range of the packets leaving (default: every port)"`
	SourcePort  bulwark.PortRange `param:"source-port" help:"source port or range of the matching packets (default: every port)"`
	Protocol    string            `param:"protocol" default:"all" enum:"tcp,udp,icmp,all" help:"transport protocol; with --port, all means tcp and udp"`
	Direction   string            `param:"direction" default:"egress" enum:"egress,ingress" help:"egress acts on packets this host sends, ingress on packets it receives (through an ifb device; no kernel-side expiry)"`
	Interface   []string          `param:"interface" help:"interfaces to act on, comma-separated (default: the ones the routes to --destination use, or every non-loopback interface)"`
}

// DelayParams are the parameters of net.delay.
type DelayParams struct {
	Delay        bulwark.Duration `param:"delay,required" help:"latency added to each matching packet, e.g. 100ms"`
	Jitter       bulwark.Duration `param:"jitter" help:"random variation of the delay, uniform in ±jitter"`
	Correlation  bulwark.Percent  `param:"correlation" unit:"%" min:"0" max:"100" help:"how much each packet's jitter depends on the previous one's"`
	Distribution string           `param:"distribution" default:"uniform" enum:"uniform,normal,pareto,paretonormal" help:"distribution of the jitter around --delay: uniform in ±jitter, or normal, pareto or paretonormal with jitter as the standard deviation"`
	FlowParams
}

// DuplicateParams are the parameters of net.duplicate.
type DuplicateParams struct {
	Percent     bulwark.Percent `param:"percent,required" unit:"%" min:"0" max:"100" help:"share of the matching packets sent twice"`
	Correlation bulwark.Percent `param:"correlation" unit:"%" min:"0" max:"100" help:"how much each packet's draw depends on the previous one's"`
	FlowParams
}

// CorruptParams are the parameters of net.corrupt.
type CorruptParams struct {
	Percent     bulwark.Percent `param:"percent,required" unit:"%" min:"0" max:"100" help:"share of the matching packets with a bit flipped"`
	Correlation bulwark.Percent `param:"correlation" unit:"%" min:"0" max:"100" help:"how much each packet's draw depends on the previous one's"`
	FlowParams
}

// ReorderParams are the parameters of net.reorder: netem sends a share of
// the packets at once and holds the others for --delay, so those overtake.
type ReorderParams struct {
	Percent     bulwark.Percent  `param:"percent,required" unit:"%" min:"0" max:"100" help:"share of the matching packets sent at once, ahead of the delayed others"`
	Correlation bulwark.Percent  `param:"correlation" unit:"%" min:"0" max:"100" help:"how much each packet's draw depends on the previous one's"`
	Delay       bulwark.Duration `param:"delay" default:"10ms" help:"how long the packets not reordered are held (netem reorders only delayed traffic)"`
	Gap         int              `param:"gap" min:"0" max:"1000000" help:"reorder only every gap-th packet (netem gap); 0 for a random share"`
	FlowParams
}

// BandwidthParams are the parameters of net.bandwidth.
type BandwidthParams struct {
	Rate bulwark.BitRate `param:"rate,required" help:"the cap, e.g. 8mbit (1 MB/s), 512kbit"`
	FlowParams
}

// Validate checks what the tags cannot.
func (p *DelayParams) Validate() error {
	switch {
	case p.Delay <= 0:
		return &fault.ParamError{Param: "delay", Message: "must be more than 0"}
	case p.Delay.Std().Microseconds() > 1<<31:
		return &fault.ParamError{Param: "delay", Message: "is longer than netem takes"}
	case p.Jitter < 0 || p.Jitter > p.Delay:
		return &fault.ParamError{Param: "jitter", Message: "must be between 0 and --delay"}
	case p.Distribution != "uniform" && p.Jitter == 0:
		return &fault.ParamError{Param: "distribution", Message: p.Distribution + " needs --jitter (its standard deviation)"}
	}
	return validateFlow(p.FlowParams)
}

// Validate checks what the tags cannot.
func (p *DuplicateParams) Validate() error {
	return validateShare(p.Percent, p.FlowParams)
}

// Validate checks what the tags cannot.
func (p *CorruptParams) Validate() error {
	return validateShare(p.Percent, p.FlowParams)
}

// Validate checks what the tags cannot.
func (p *ReorderParams) Validate() error {
	if p.Delay <= 0 {
		return &fault.ParamError{Param: "delay", Message: "must be more than 0: netem reorders by holding the other packets back"}
	}
	return validateShare(p.Percent, p.FlowParams)
}

// Validate checks what the tags cannot.
func (p *BandwidthParams) Validate() error {
	if p.Rate < 8000 {
		return &fault.ParamError{Param: "rate", Message: fmt.Sprintf("%s is below 8kbit", p.Rate)}
	}
	return validateFlow(p.FlowParams)
}

func validateShare(pc bulwark.Percent, f FlowParams) error {
	if pc <= 0 {
		return &fault.ParamError{Param: "percent", Message: "must be more than 0"}
	}
	return validateFlow(f)
}

func validateFlow(f FlowParams) error {
	if f.Protocol == ProtoICMP && !f.Port.IsZero() {
		return &fault.ParamError{Param: "port", Message: "icmp has no ports"}
	}
	if f.Protocol == ProtoICMP && !f.SourcePort.IsZero() {
		return &fault.ParamError{Param: "source-port", Message: "icmp has no ports"}
	}
	for _, n := range f.Interface {
		if n == "" || len(n) > 15 || strings.ContainsAny(n, "/ \t\n") {
			return &fault.ParamError{Param: "interface", Message: fmt.Sprintf("%q is not an interface name", n)}
		}
	}
	return (&PartitionParams{Destination: f.Destination}).Validate()
}

var (
	_ fault.Kind         = shapeKind{}
	_ fault.Availability = shapeKind{}
	_ fault.Statuser     = shapeKind{}
)
