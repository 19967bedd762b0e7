package netfault

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// shapeV1 is a shaping kind's receipt data, version 1: the flow and its
// table as net.partition records them (Direction egress, Action unused),
// the interfaces, the fault's mark in their qdisc trees and what its class
// does.
type shapeV1 struct {
	partitionV1
	// Major is the handle major of the fault's leaf qdisc on every link,
	// chosen at Prepare: recovery finds the fault's class through it.
	Major uint16      `json:"major"`
	Links []shapeLink `json:"links"`
	// Rate is the class's cap in bits per second; zero for no cap.
	Rate  uint64   `json:"rate,omitempty"`
	Netem *netemV1 `json:"netem,omitempty"`
	// What says what the class does, for evidence ("delay 100ms ± 10ms").
	What string `json:"what"`
}

// shapeLink is one interface the fault acts on; Minor, the fault's class
// b0b:Minor there, is set by Apply.
type shapeLink struct {
	Name  string `json:"name"`
	Index int    `json:"index"`
	Minor uint16 `json:"minor,omitempty"`
}

// netemV1 is the fault's netem qdisc, in tc's units (microseconds,
// percent).
type netemV1 struct {
	LatencyUS     uint32  `json:"latencyUs,omitempty"`
	JitterUS      uint32  `json:"jitterUs,omitempty"`
	DelayCorr     float32 `json:"delayCorr,omitempty"`
	Loss          float32 `json:"loss,omitempty"`
	LossCorr      float32 `json:"lossCorr,omitempty"`
	Duplicate     float32 `json:"duplicate,omitempty"`
	DuplicateCorr float32 `json:"duplicateCorr,omitempty"`
	Reorder       float32 `json:"reorder,omitempty"`
	ReorderCorr   float32 `json:"reorderCorr,omitempty"`
	Gap           uint32  `json:"gap,omitempty"`
	Corrupt       float32 `json:"corrupt,omitempty"`
	CorruptCorr   float32 `json:"corruptCorr,omitempty"`
	// Distribution is the jitter's distribution; empty or "uniform" needs
	// no table.
	Distribution string `json:"distribution,omitempty"`
}

// netemLimit is the netem queue in packets: a delay of 100 ms at 100k
// packets/s holds 10k of them.
const netemLimit = 10000

func us(d bulwark.Duration) uint32 { return uint32(d.Std() / time.Microsecond) }

// shape turns a kind's parameters into its flow and what its class does.
func shape(params any) (f FlowParams, n *netemV1, rate uint64, what string, err error) {
	switch p := params.(type) {
	case *DelayParams:
		n = &netemV1{LatencyUS: us(p.Delay), JitterUS: us(p.Jitter), DelayCorr: float32(p.Correlation), Distribution: p.Distribution}
		what = "delay " + p.Delay.String()
		if p.Jitter > 0 {
			what += fmt.Sprintf(" ± %s (%s, correlation %s%%)", p.Jitter, p.Distribution, p.Correlation)
		}
		return p.FlowParams, n, 0, what, nil
	case *DuplicateParams:
		n = &netemV1{Duplicate: float32(p.Percent), DuplicateCorr: float32(p.Correlation)}
		return p.FlowParams, n, 0, fmt.Sprintf("duplicate %s%% (correlation %s%%)", p.Percent, p.Correlation), nil
	case *CorruptParams:
		n = &netemV1{Corrupt: float32(p.Percent), CorruptCorr: float32(p.Correlation)}
		return p.FlowParams, n, 0, fmt.Sprintf("corrupt %s%% (correlation %s%%)", p.Percent, p.Correlation), nil
	case *ReorderParams:
		n = &netemV1{LatencyUS: us(p.Delay), Reorder: float32(p.Percent), ReorderCorr: float32(p.Correlation), Gap: uint32(p.Gap)}
		what = fmt.Sprintf("reorder %s%% (correlation %s%%) by holding the others %s", p.Percent, p.Correlation, p.Delay)
		if p.Gap > 0 {
			what += fmt.Sprintf(", gap %d", p.Gap)
		}
		return p.FlowParams, n, 0, what, nil
	case *BandwidthParams:
		return p.FlowParams, nil, uint64(p.Rate), "cap at " + p.Rate.String(), nil
	}
	return FlowParams{}, nil, 0, "", fmt.Errorf("shaping kind: params are %T", params)
}

// newShapeV1 computes the receipt data of a fault, without the kernel
// probes and the interfaces.
func newShapeV1(h *fault.Host, req fault.Request) (*shapeV1, FlowParams, error) {
	f, n, rate, what, err := shape(req.Params)
	if err != nil {
		return nil, f, err
	}
	pd, err := newPartitionV1(h, req, &PartitionParams{
		Destination: f.Destination, Port: f.Port, Protocol: f.Protocol, Direction: f.Direction, Action: ActionDrop,
	})
	if err != nil {
		return nil, f, err
	}
	if !f.SourcePort.IsZero() {
		pd.SourcePort = f.SourcePort.String()
	}
	return &shapeV1{partitionV1: *pd, Netem: n, Rate: rate, What: what}, f, nil
}

// decodeShape reads receipt data of any version this binary knows and sets
// the classification the table is built with.
func decodeShape(r *fault.Receipt) (*shapeV1, error) {
	if r.Version != 1 {
		return nil, fmt.Errorf("%s receipt v%d is not known to this binary: %w", r.Kind, r.Version, bulwark.ErrNewerReceipt)
	}
	var d shapeV1
	if err := r.Decode(&d); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(d.Table, tablePrefix) {
		return nil, fmt.Errorf("%s receipt names table %q, not one of bulwark's", r.Kind, d.Table)
	}
	if len(d.Links) == 0 {
		return nil, fmt.Errorf("%s receipt names no interface", r.Kind)
	}
	if n := d.Netem; n != nil && n.Distribution != "" && !slices.Contains([]string{"uniform", "normal", "pareto", "paretonormal"}, n.Distribution) {
		return nil, fmt.Errorf("%s receipt names distribution %q, not known to this binary", r.Kind, n.Distribution)
	}
	if d.Direction != DirEgress && d.Direction != DirIngress {
		return nil, fmt.Errorf("%s receipt has direction %q, not known to this binary", r.Kind, d.Direction)
	}
	d.setClassify()
	return &d, nil
}

// summary describes the fault: "delay 100ms for tcp packets leaving for
// 10.0.0.2, destination port 80, on eth0".
func (d *shapeV1) summary() string {
	names := make([]string, len(d.Links))
	for i, l := range d.Links {
		names[i] = l.Name
	}
	return fmt.Sprintf("%s for %s, on %s", d.What, d.flowText(), strings.Join(names, ", "))
}

// resource names what the fault changes: its own table (classes compose).
func (d *shapeV1) resource() string { return d.partitionV1.resource() }
