package netfault

import (
	"fmt"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// maxDestinations bounds --destination so that one fault stays one small
// netlink batch.
const maxDestinations = 1024

// The values of --protocol, --direction and --action.
const (
	ProtoTCP  = "tcp"
	ProtoUDP  = "udp"
	ProtoICMP = "icmp" // net.loss only
	ProtoAll  = "all"

	DirEgress  = "egress"
	DirIngress = "ingress"
	DirBoth    = "both"

	ActionDrop   = "drop"
	ActionReject = "reject"
)

// PartitionParams are the parameters of net.partition.
//
// The port is the service port: the destination port of packets leaving
// (egress, connections this host makes) and of packets arriving (ingress,
// connections made to this host). The destination is the remote address:
// the destination of packets leaving and the source of packets arriving.
type PartitionParams struct {
	Destination []Address         `param:"destination,target" help:"remote IPv4/IPv6 addresses, CIDRs or host names resolved at inject to cut, comma-separated (default: everything)"`
	Port        bulwark.PortRange `param:"port" help:"service port or range: the destination port of packets leaving (egress) and of packets arriving (ingress); default: every port"`
	Protocol    string            `param:"protocol" default:"all" enum:"tcp,udp,all" help:"transport protocol to cut; with --port, all means tcp and udp"`
	Direction   string            `param:"direction" default:"both" enum:"egress,ingress,both" help:"egress cuts packets this host sends, ingress packets it receives"`
	Action      string            `param:"action" default:"drop" enum:"drop,reject" help:"drop silently, or reject: a TCP reset for tcp, ICMP(v6) port-unreachable for udp, admin-prohibited otherwise"`
}

// Validate checks what the tags cannot.
func (p *PartitionParams) Validate() error {
	if len(p.Destination) > maxDestinations {
		return &fault.ParamError{Param: "destination", Message: fmt.Sprintf("%d addresses is more than %d; use CIDRs", len(p.Destination), maxDestinations)}
	}
	for _, d := range p.Destination {
		if !d.IsValid() {
			return &fault.ParamError{Param: "destination", Message: "empty address"}
		}
	}
	return nil
}
