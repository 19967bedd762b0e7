package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/notify"
)

// injectTimeout bounds how long POST /api/v1/faults waits for agents to
// report their faults active.
const injectTimeout = 30 * time.Second

func (s *Server) faultRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/faults", s.handler(s.postFaults))
	mux.HandleFunc("GET /api/v1/agents", s.handler(s.listAgents))
}

// faultRequest is the body of POST /api/v1/faults (DESIGN §5).
type faultRequest struct {
	Kind     string                     `json:"kind"`
	Params   map[string]json.RawMessage `json:"params,omitempty"`
	Target   map[string]json.RawMessage `json:"target,omitempty"`
	Duration bulwark.Duration           `json:"duration"`
	Select   bulwark.Selector           `json:"select"`
	Change   struct {
		Ticket string `json:"ticket,omitempty"`
	} `json:"change"`
}

// faultOut is one created fault in the answer.
type faultOut struct {
	ID        string        `json:"id"`
	Agent     string        `json:"agent"`
	Hostname  string        `json:"hostname"`
	Kind      string        `json:"kind"`
	State     bulwark.State `json:"state"`
	ExpiresAt time.Time     `json:"expiresAt,omitzero"`
	Error     string        `json:"error,omitempty"`
}

// postFaults injects an ad-hoc fault on the selected agents: validate,
// resolve, authorise every host, check halts and the blast radius, ask the
// policy gate, then fan out and wait for the agents' reports.
func (s *Server) postFaults(w http.ResponseWriter, r *http.Request) error {
	p, err := s.principal(r)
	if err != nil {
		return err
	}
	if err := s.Auth.AllowedSomewhere(r.Context(), p, bulwark.RoleOperator); err != nil {
		return err
	}
	var req faultRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	spec, err := req.spec()
	if err != nil {
		return err
	}
	if s.Fleet == nil {
		return bulwark.Errorf(bulwark.EUNAVAILABLE, "no agent gateway is running")
	}
	agents, err := s.Fleet.Select(r.Context(), req.Select)
	if err != nil {
		return err
	}
	targets, err := s.resolveTargets(r, agents)
	if err != nil {
		return err
	}
	if err := s.checkUnits(r.Context(), targets); err != nil {
		return err
	}
	gr := GateRequest{Principal: p, Action: ActionFaultInject, Targets: targets, Kind: spec.Kind, Params: spec.Params,
		Duration: time.Duration(spec.Duration), Ticket: req.Change.Ticket}
	if err := s.decide(r.Context(), gr, "faults/"+spec.Kind); err != nil {
		return err
	}
	out := s.fanOut(r.Context(), agents, spec)
	s.announce(p, spec, targets, out)
	status, reason := "ok", ""
	for _, f := range out {
		if f.State != bulwark.StateActive {
			status, reason = "error", fmt.Sprintf("fault %s on %s: %s %s", f.ID, f.Hostname, f.State, f.Error)
			break
		}
	}
	s.record(r.Context(), p, "fault.inject", "faults/"+spec.Kind, map[string]any{"request": req, "faults": out}, status, reason)
	writeJSON(w, http.StatusCreated, map[string]any{"faults": out})
	return nil
}

// spec checks the kind and its parameters against the registry's schema
// and returns the fault spec every agent gets.
func (req *faultRequest) spec() (bulwark.FaultSpec, error) {
	if err := req.Select.Validate(); err != nil {
		return bulwark.FaultSpec{}, err
	}
	k, err := fault.Lookup(req.Kind)
	if err != nil {
		return bulwark.FaultSpec{}, bulwark.Errorf(bulwark.EINVALID, "kind: %s", bulwark.ErrorMessage(err))
	}
	if req.Duration <= 0 {
		return bulwark.FaultSpec{}, bulwark.Errorf(bulwark.EINVALID, "duration: required and positive (e.g. \"60s\")")
	}
	params, err := scalars("params", req.Params)
	if err != nil {
		return bulwark.FaultSpec{}, err
	}
	target, err := scalars("target", req.Target)
	if err != nil {
		return bulwark.FaultSpec{}, err
	}
	merged := map[string]string{}
	for k, v := range params {
		merged[k] = v
	}
	for k, v := range target {
		merged[k] = v
	}
	if _, err := fault.Decode(k.Info(), merged); err != nil {
		return bulwark.FaultSpec{}, bulwark.Errorf(bulwark.EINVALID, "params: %v", err)
	}
	return bulwark.FaultSpec{Kind: req.Kind, Params: params, Target: target, Duration: req.Duration}, nil
}

// scalars turns JSON scalars into the strings the parameter schema parses.
func scalars(field string, in map[string]json.RawMessage) (map[string]string, error) {
	out := map[string]string{}
	for k, raw := range in {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, bulwark.Errorf(bulwark.EINVALID, "%s.%s: %v", field, k, err)
		}
		switch v := v.(type) {
		case string:
			out[k] = v
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			out[k] = strconv.FormatBool(v)
		default:
			return nil, bulwark.Errorf(bulwark.EINVALID, "%s.%s: want a string, number or boolean", field, k)
		}
	}
	return out, nil
}

// resolveTargets maps the selected agents to inventory records, checks the
// caller holds operator on each one's system and environment, and that no
// halt covers it.
func (s *Server) resolveTargets(r *http.Request, agents []FleetAgent) ([]GateTarget, error) {
	ctx := r.Context()
	operator := s.checker(r, bulwark.RoleOperator)
	var out []GateTarget
	for _, a := range agents {
		t, err := s.target(ctx, a)
		if err != nil {
			return nil, err
		}
		res := bulwark.Resource{System: t.System.Name, Team: t.System.OwnerTeam, Environment: t.Environment.Name}
		if err := operator(res); err != nil {
			return nil, err
		}
		if err := s.blocked(t.System.Name, t.Environment.Name); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// target looks an agent's host up in the inventory. An agent whose host is
// not in the inventory still has the environment its join token gave it
// (a server-owned label), so it can be faulted within that environment's
// policy, but it belongs to no system: only an operator of the whole
// environment may fault it.
func (s *Server) target(ctx context.Context, a FleetAgent) (GateTarget, error) {
	h, err := s.Inventory.FindHostByName(ctx, a.Hostname)
	switch {
	case bulwark.ErrorCode(err) == bulwark.ENOTFOUND:
		h = bulwark.InventoryHost{Hostname: a.Hostname, Environment: a.Environment()}
		if h.Environment == "" {
			return GateTarget{}, bulwark.Errorf(bulwark.EFORBIDDEN, "agent %s (%s): no environment; enrol it with a join token or import its host", a.ID, a.Hostname)
		}
	case err != nil:
		return GateTarget{}, err
	}
	env, err := s.Inventory.FindEnvironment(ctx, h.Environment)
	if err != nil {
		return GateTarget{}, err
	}
	t := GateTarget{HostID: h.ID, Hostname: h.Hostname, Unit: h.Unit, Environment: env}
	if h.System != "" {
		if t.System, err = s.Inventory.FindSystem(ctx, h.System); err != nil {
			return GateTarget{}, err
		}
	}
	return t, nil
}

// fanOut sends the fault to every agent at once and collects the reports.
func (s *Server) fanOut(ctx context.Context, agents []FleetAgent, spec bulwark.FaultSpec) []faultOut {
	ctx, cancel := context.WithTimeout(ctx, injectTimeout)
	defer cancel()
	out := make([]faultOut, len(agents))
	done := make(chan struct{}, len(agents))
	for i, a := range agents {
		df := s.desired(spec)
		out[i] = faultOut{ID: df.ID, Agent: a.ID, Hostname: a.Hostname, Kind: spec.Kind, State: bulwark.StateInjecting}
		go func() {
			defer func() { done <- struct{}{} }()
			reps, err := s.Fleet.AddFaults(ctx, a.ID, []DesiredFault{df})
			switch {
			case err != nil:
				out[i].State, out[i].Error = bulwark.StateFailed, bulwark.ErrorMessage(err)
			case len(reps) == 1:
				out[i].State, out[i].Error = reps[0].State, reps[0].Error
				if f := reps[0].Fault; f != nil && f.ExpiresAt != nil {
					out[i].ExpiresAt = *f.ExpiresAt
				}
			}
		}()
	}
	for range agents {
		<-done
	}
	return out
}

// listAgents answers GET /api/v1/agents with the agents the caller may see.
func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) error {
	if s.Fleet == nil {
		writeJSON(w, http.StatusOK, map[string]any{"agents": []FleetAgent{}})
		return nil
	}
	agents, err := s.Fleet.Agents(r.Context())
	if err != nil {
		return err
	}
	agents, err = visible(s, r, bulwark.RoleViewer, agents, func(a FleetAgent) bulwark.Resource {
		return bulwark.Resource{System: a.System(), Environment: a.Environment()}
	})
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, a := range agents {
		out = append(out, map[string]any{"id": a.ID, "hostname": a.Hostname, "labels": a.Labels, "status": a.Status})
	}
	writeJSON(w, http.StatusOK, map[string]any{"agents": out})
	return nil
}

// announce opens a drill window over the hosts where the fault became
// active, ending at the latest expiry.
func (s *Server) announce(p bulwark.Principal, spec bulwark.FaultSpec, targets []GateTarget, out []faultOut) {
	w := notify.Window{Kind: "fault", Name: spec.Kind, Type: "adhoc", StartsAt: s.Now().UTC(), By: p.Name}
	for i, f := range out {
		if f.State != bulwark.StateActive {
			continue
		}
		if w.ID == "" {
			w.ID = f.ID
		}
		w.Hosts = append(w.Hosts, f.Hostname)
		if t := targets[i]; t.System.Name != "" {
			w.Systems = append(w.Systems, t.System.Name)
		}
		w.Environment = targets[i].Environment.Name
		if f.ExpiresAt.After(w.EndsAt) {
			w.EndsAt = f.ExpiresAt
		}
	}
	if w.ID == "" {
		return
	}
	if w.EndsAt.IsZero() {
		w.EndsAt = w.StartsAt.Add(time.Duration(spec.Duration))
	}
	s.windows.start(w)
}

// desired is the fault an agent is asked to hold for spec, with a new id.
// The fault's duration starts when it is active on the agent (contract 3);
// ExpiresAt is only the ceiling past which it must not start or stay, so
// it leaves room for the inject itself.
func (s *Server) desired(spec bulwark.FaultSpec) DesiredFault {
	return DesiredFault{ID: bulwark.NewID(), Kind: spec.Kind, Params: spec.Params, Target: spec.Target,
		Duration: time.Duration(spec.Duration), ExpiresAt: s.Now().Add(time.Duration(spec.Duration) + injectTimeout).UTC()}
}
