package netfault

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(PortOccupy{}) }

// PortOccupyID is net.port-occupy's identifier.
const PortOccupyID = "net.port-occupy"

// portHelperName is the helper that holds the sockets:
// `bulwark helper net-port-occupy --fault ID …`.
const portHelperName = "net-port-occupy"

// Bounds on net.port-occupy, so that one helper stays within a few thousand
// descriptors.
const (
	maxOccupyPorts     = 1024
	maxOccupyAddresses = 8
)

// PortOccupyParams are net.port-occupy's parameters.
type PortOccupyParams struct {
	Port     bulwark.PortRange `param:"port,required,target" help:"port or range to occupy; every port of a range is bound; never a management port"`
	Protocol string            `param:"protocol" default:"tcp" enum:"tcp,udp" help:"tcp: bind and listen (clients that connect meanwhile wait in a backlog nobody accepts); udp: bind"`
	Address  []netip.Addr      `param:"address" default:"0.0.0.0,::" help:"local addresses to bind, comma-separated; the default takes the port on every IPv4 and IPv6 address"`
}

// Validate checks the range and the addresses.
func (p *PortOccupyParams) Validate() error {
	if n := int(p.Port.Last) - int(p.Port.First) + 1; n > maxOccupyPorts {
		return &fault.ParamError{Param: "port", Message: fmt.Sprintf("%d ports is more than %d", n, maxOccupyPorts)}
	}
	if len(p.Address) == 0 || len(p.Address) > maxOccupyAddresses {
		return &fault.ParamError{Param: "address", Message: fmt.Sprintf("give 1 to %d addresses", maxOccupyAddresses)}
	}
	seen := map[netip.Addr]bool{}
	for i, a := range p.Address {
		if !a.IsValid() || a.Zone() != "" {
			return &fault.ParamError{Param: "address", Message: fmt.Sprintf("%q is not a plain IPv4 or IPv6 address", a)}
		}
		a = a.Unmap()
		if seen[a] {
			return &fault.ParamError{Param: "address", Message: fmt.Sprintf("%s is given twice", a)}
		}
		seen[a] = true
		p.Address[i] = a
	}
	return nil
}

// PortOccupy is net.port-occupy: a helper process binds (and for TCP
// listens on) each port of a range, so that an application cannot start on
// it. The helper exits by itself at its deadline.
type PortOccupy struct{}

// portOccupyV1 is net.port-occupy's receipt data, version 1.
type portOccupyV1 struct {
	Fault     string       `json:"fault"`
	Exe       string       `json:"exe"`
	Deadline  time.Time    `json:"deadline"`
	First     uint16       `json:"first"`
	Last      uint16       `json:"last"`
	Protocol  string       `json:"protocol"`
	Addresses []netip.Addr `json:"addresses"`
	// NetNS is the namespace the helper binds in; empty: the caller's.
	NetNS string `json:"netns,omitempty"`
	// Helper is set by Apply once the helper runs.
	Helper *fault.Proc `json:"helper,omitempty"`
}

// Info implements fault.Kind.
func (PortOccupy) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             PortOccupyID,
		Summary:        "Occupy TCP or UDP ports so an application cannot bind them (a helper holds them until the deadline)",
		SummaryZH:      "端口占用：由辅助进程绑定并占用 TCP/UDP 端口，使应用无法在该端口启动（到期自动释放）",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesNothing,
		ReceiptVersion: 1,
		NewParams:      func() any { return new(PortOccupyParams) },
	}
}

func (d *portOccupyV1) ports() string {
	return bulwark.PortRange{First: d.First, Last: d.Last}.String()
}

func (d *portOccupyV1) ref() fault.HelperRef {
	return fault.HelperRef{Exe: d.Exe, Name: portHelperName, Fault: d.Fault, Started: d.Helper}
}

// sockets is how many sockets the helper holds.
func (d *portOccupyV1) sockets() int { return (int(d.Last) - int(d.First) + 1) * len(d.Addresses) }

// decodePortOccupy reads receipt data of any version this binary knows.
func decodePortOccupy(r *fault.Receipt) (*portOccupyV1, error) {
	if r.Version != 1 {
		return nil, fmt.Errorf("net.port-occupy receipt v%d is not known to this binary: %w", r.Version, bulwark.ErrNewerReceipt)
	}
	var d portOccupyV1
	if err := r.Decode(&d); err != nil {
		return nil, err
	}
	if !bulwark.ValidID(d.Fault) || d.Exe == "" || d.First == 0 || d.Last < d.First {
		return nil, fmt.Errorf("net.port-occupy receipt has no fault id, helper executable or ports")
	}
	return &d, nil
}

var (
	_ fault.Kind         = PortOccupy{}
	_ fault.Availability = PortOccupy{}
	_ fault.Statuser     = PortOccupy{}
	_ fault.Validator    = (*PortOccupyParams)(nil)
)
