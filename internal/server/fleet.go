package server

import (
	"context"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw"
)

// Fleet is the connected agents as the server drives them (the agent
// gateway, internal/agentgw). Labels carry the server-owned reserved labels
// (env, system, unit, zone) from the inventory.
type Fleet interface {
	// Agents lists every agent the gateway knows, connected or not.
	Agents(ctx context.Context) ([]FleetAgent, error)
	// Select resolves a selector to agents (contract 1: all | count:N |
	// percent:P over the agents whose labels match).
	Select(ctx context.Context, sel bulwark.Selector) ([]FleetAgent, error)
	// AddFaults adds faults to an agent's desired set (a new epoch) and
	// returns once the agent reported them active or failed, or ctx ends.
	AddFaults(ctx context.Context, agentID string, faults []DesiredFault) ([]FaultReport, error)
	// RemoveFaults takes faults out of an agent's desired set (a new epoch)
	// and returns once the agent reported them recovered, or ctx ends.
	RemoveFaults(ctx context.Context, agentID string, ids []string) ([]FaultReport, error)
	// Halt empties the desired set of every agent that match selects (a new
	// epoch each) and waits up to timeout for their reports.
	Halt(ctx context.Context, match func(FleetAgent) bool, timeout time.Duration) (HaltReport, error)
}

// FleetAgent is one connected (or known) agent.
type FleetAgent struct {
	ID       string            `json:"id"`
	Hostname string            `json:"hostname"`
	Labels   map[string]string `json:"labels"`
	// Status is connected, lost (a stream silent for longer than the
	// lease) or disconnected.
	Status string `json:"status"`
}

// AgentConnected is the status of an agent holding a live stream (the
// gateway's statuses: connected, lost, disconnected).
const AgentConnected = agentgw.StatusConnected

// Connected reports whether the agent holds a live stream.
func (a FleetAgent) Connected() bool { return a.Status == AgentConnected }

// System and Environment read the reserved labels.
func (a FleetAgent) System() string      { return a.Labels[bulwark.LabelSystem] }
func (a FleetAgent) Environment() string { return a.Labels[bulwark.LabelEnv] }

// DesiredFault is one fault the server wants an agent to hold.
type DesiredFault struct {
	ID        string            `json:"id"`
	Kind      string            `json:"kind"`
	Params    map[string]string `json:"params,omitempty"`
	Target    map[string]string `json:"target,omitempty"`
	Duration  time.Duration     `json:"duration"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

// FaultReport is what an agent reported for one fault.
type FaultReport struct {
	ID      string         `json:"id"`
	AgentID string         `json:"agent"`
	State   bulwark.State  `json:"state"`
	Error   string         `json:"error,omitempty"`
	Fault   *bulwark.Fault `json:"fault,omitempty"`
}

// HaltReport says what a halt recovered and which agents did not answer.
type HaltReport struct {
	Recovered   []FaultReport `json:"recovered"`
	NotAnswered []string      `json:"notAnswered"`
	Agents      int           `json:"agents"`
}
