package agentgw

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
)

// Agent statuses.
const (
	StatusConnected    = "connected"
	StatusDisconnected = "disconnected"
	// StatusLost is a connected stream that has been silent for longer than
	// the lease: the agent has recovered its faults by itself.
	StatusLost = "lost"
)

// agentState is what the gateway holds for one enrolled agent.
type agentState struct {
	rec          *agentstore.Agent // the persisted part
	serverLabels map[string]string // reserved labels from the inventory
	env          bulwark.Environment
	docs         [2][]byte // policy, calendar
	sess         *session  // nil when not connected
	status       string
	protocol     int
	kinds        []string
	actual       map[string]*bulwark.Fault
	applied      uint64 // last epoch the agent reported
	halt         bool   // the current epoch is a halt
}

// Agent is an enrolled agent as the server's API shows it.
type Agent struct {
	ID              string                    `json:"id"`
	Hostname        string                    `json:"hostname"`
	StateDir        string                    `json:"stateDir,omitempty"`
	Labels          map[string]string         `json:"labels"`
	Environment     bulwark.Environment       `json:"environment"`
	Status          string                    `json:"status"`
	ProtocolVersion int                       `json:"protocolVersion,omitempty"`
	Kinds           []string                  `json:"kinds"`
	Epoch           uint64                    `json:"epoch"`
	AppliedEpoch    uint64                    `json:"appliedEpoch"`
	Desired         []agentstore.DesiredFault `json:"desired"`
	Faults          []*bulwark.Fault          `json:"faults"`
	EnrolledAt      time.Time                 `json:"enrolledAt"`
	LastSeen        time.Time                 `json:"lastSeen,omitzero"`
}

// labels returns the agent's own labels overlaid with the server-owned
// ones; a reserved key never comes from the agent.
func (a *agentState) labels() map[string]string {
	out := make(map[string]string, len(a.rec.Labels)+len(a.serverLabels)+2)
	for k, v := range a.rec.Labels {
		if !bulwark.ReservedLabel(k) {
			out[k] = v
		}
	}
	out[bulwark.LabelEnv] = a.rec.Environment
	if a.rec.Zone != "" {
		out[bulwark.LabelZone] = a.rec.Zone
	}
	maps.Copy(out, a.serverLabels)
	return out
}

func (g *Gateway) viewLocked(a *agentState) Agent {
	status := a.status
	if status == StatusConnected && g.cfg.Now().Sub(a.rec.LastSeen) > g.cfg.Lease {
		status = StatusLost
	}
	v := Agent{
		ID: a.rec.ID, Hostname: a.rec.Hostname, StateDir: a.rec.StateDir, Labels: a.labels(),
		Environment: a.env, Status: status, ProtocolVersion: a.protocol, Kinds: slices.Clone(a.kinds),
		Epoch: a.rec.Epoch, AppliedEpoch: a.applied, Desired: slices.Clone(a.rec.Desired),
		EnrolledAt: a.rec.EnrolledAt, LastSeen: a.rec.LastSeen, Faults: []*bulwark.Fault{},
	}
	if v.Environment.Name == "" {
		v.Environment = g.defaultEnv(a.rec.Environment)
	}
	for _, id := range slices.Sorted(maps.Keys(a.actual)) {
		f := *a.actual[id]
		v.Faults = append(v.Faults, &f)
	}
	return v
}

// AgentFilter narrows Agents. Zero fields match everything.
type AgentFilter struct {
	Labels map[string]string
	Status string
}

// Agents returns the enrolled agents that match filter, by id.
func (g *Gateway) Agents(filter AgentFilter) []Agent {
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := []Agent{}
	for _, id := range slices.Sorted(maps.Keys(g.agents)) {
		v := g.viewLocked(g.agents[id])
		if filter.Status != "" && v.Status != filter.Status || !matches(v.Labels, filter.Labels) {
			continue
		}
		out = append(out, v)
	}
	return out
}

// Agent returns one agent, or ENOTFOUND.
func (g *Gateway) Agent(id string) (Agent, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	a, ok := g.agents[id]
	if !ok {
		return Agent{}, bulwark.Errorf(bulwark.ENOTFOUND, "no agent %s", id)
	}
	return g.viewLocked(a), nil
}

func matches(labels, want map[string]string) bool {
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Selection is the outcome of a selector: the chosen agents and the seed
// that chose them (recorded so that a run can say how it picked).
type Selection struct {
	Agents  []Agent `json:"agents"`
	Matched int     `json:"matched"`
	Seed    uint64  `json:"seed"`
}

// Select picks connected agents by sel with a random seed (DESIGN §5.1
// contract 1).
func (g *Gateway) Select(sel bulwark.Selector) ([]Agent, error) {
	s, err := g.SelectSeeded(sel, rand.Uint64())
	return s.Agents, err
}

// SelectSeeded picks connected agents by sel: all of them, count:N chosen
// uniformly at random (fewer matches is an error), or percent:P, that is
// ceil(P·M/100) and at least one. The same seed over the same agents picks
// the same ones.
func (g *Gateway) SelectSeeded(sel bulwark.Selector, seed uint64) (Selection, error) {
	if err := sel.Validate(); err != nil {
		return Selection{}, err
	}
	mode, n, _ := sel.Mode.Parse()
	matched := g.Agents(AgentFilter{Labels: sel.Labels, Status: StatusConnected})
	out := Selection{Matched: len(matched), Seed: seed}
	if len(matched) == 0 {
		return out, bulwark.Errorf(bulwark.EINVALID, "select: no connected agent has labels %v", sel.Labels)
	}
	want := len(matched)
	switch mode {
	case "count":
		want = int(n)
		if want > len(matched) {
			return out, bulwark.Errorf(bulwark.EINVALID, "select: count:%d but only %d connected agents match %v", want, len(matched), sel.Labels)
		}
	case "percent":
		want = max(1, int(math.Ceil(n*float64(len(matched))/100)))
	}
	if want < len(matched) {
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		r.Shuffle(len(matched), func(i, j int) { matched[i], matched[j] = matched[j], matched[i] })
		matched = matched[:want]
		slices.SortFunc(matched, func(a, b Agent) int { return cmpString(a.ID, b.ID) })
	}
	out.Agents = matched
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// defaultEnv is the environment of an agent the inventory does not know:
// only the bootstrap "simulation" environment is not production-class, so
// that an unknown environment fails safe.
func (g *Gateway) defaultEnv(name string) bulwark.Environment {
	return bulwark.Environment{Name: name, ProductionClass: name != SimulationEnv}
}

// SimulationEnv is the non-production environment BULWARK_AGENT_TOKEN enrols into.
const SimulationEnv = "simulation"

// Count returns how many enrolled agents there are and how many of them
// have a session open, without building their views (for metrics and
// polling).
func (g *Gateway) Count() (enrolled, connected int) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	for _, a := range g.agents {
		if a.sess != nil {
			connected++
		}
	}
	return len(g.agents), connected
}
