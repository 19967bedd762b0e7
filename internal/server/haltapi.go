package server

import (
	"net/http"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// haltTimeout is how long a halt waits for agents to report recovery.
const haltTimeout = 5 * time.Second

func (s *Server) haltRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/halt", s.handler(s.listHalts))
	mux.HandleFunc("POST /api/v1/halt", s.handler(s.postHalt))
	mux.HandleFunc("DELETE /api/v1/halt", s.handler(s.deleteHalt))
}

func (s *Server) listHalts(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.principal(r); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"halts": s.halts.list()})
	return nil
}

// haltResponse is the answer to POST /api/v1/halt.
type haltResponse struct {
	Halt        Halt          `json:"halt"`
	Recovered   []FaultReport `json:"recovered"`
	NotAnswered []string      `json:"notAnswered"`
	Agents      int           `json:"agents"`
}

// postHalt recovers every active fault in scope on every agent and blocks
// new work there until resumed. It acts first — the block and the fan-out
// need neither the database nor the audit log — and audits after.
func (s *Server) postHalt(w http.ResponseWriter, r *http.Request) error {
	var scope HaltScope
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &scope); err != nil {
			return err
		}
	}
	p, err := s.allow(r, bulwark.RoleOperator, scope.Resource())
	if err != nil {
		return err
	}
	h := Halt{Scope: scope, Since: s.Now().UTC(), By: p}
	s.halts.add(h)
	s.metrics.halts.Set(float64(len(s.halts.list())))

	resp := haltResponse{Halt: h, Recovered: []FaultReport{}, NotAnswered: []string{}}
	var haltErr error
	if s.Fleet != nil {
		match := func(a FleetAgent) bool { return scope.Covers(a.System(), a.Environment()) }
		rep, err := s.Fleet.Halt(r.Context(), match, haltTimeout)
		haltErr = err
		resp.Agents = rep.Agents
		resp.Recovered = append(resp.Recovered, rep.Recovered...)
		resp.NotAnswered = append(resp.NotAnswered, rep.NotAnswered...)
	}
	s.runs.halt(scope)
	s.windows.halt(scope)
	status, reason := "ok", ""
	if haltErr != nil {
		status, reason = "error", haltErr.Error()
	} else if len(resp.NotAnswered) > 0 {
		reason = "agents did not answer: " + joinMax(resp.NotAnswered, 20)
	}
	s.persistHalt(r.Context(), h)
	s.record(r.Context(), p, "halt", "halt/"+scope.String(), scope, status, reason)
	if haltErr != nil {
		return haltErr
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// deleteHalt resumes: it lifts the halt of exactly the scope given in the
// query (?system=&environment=; ?ticket= where policy needs a change ticket). Resuming lets work change hosts again, so
// it goes through the policy gate like every such path.
func (s *Server) deleteHalt(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	scope := HaltScope{System: q.Get("system"), Environment: q.Get("environment")}
	p, err := s.allow(r, bulwark.RoleOperator, scope.Resource())
	if err != nil {
		return err
	}
	if err := s.gateResume(r.Context(), p, scope, q.Get("ticket")); err != nil {
		return err
	}
	if _, ok := s.halts.exact(scope); !ok {
		return bulwark.Errorf(bulwark.ENOTFOUND, "no halt of %s is in force", scope)
	}
	// Resuming needs the store: a resume that a restart would forget is
	// worse than one refused while the database is down.
	if s.HaltStore != nil {
		if err := s.HaltStore.DeleteHalt(r.Context(), scope.System, scope.Environment); err != nil {
			return err
		}
	}
	s.halts.remove(scope)
	s.metrics.halts.Set(float64(len(s.halts.list())))
	s.record(r.Context(), p, "halt.resume", "halt/"+scope.String(), scope, "ok", "")
	writeJSON(w, http.StatusOK, map[string]any{"resumed": scope, "halts": s.halts.list()})
	return nil
}

// blocked returns ECONFLICT when a halt covers a host of sys in env.
func (s *Server) blocked(sys, env string) error {
	if h, ok := s.halts.blocking(sys, env); ok {
		return bulwark.Errorf(bulwark.ECONFLICT, "halted: a halt of %s is in force since %s; resume it first (DELETE /api/v1/halt)",
			h.Scope, h.Since.Format(time.RFC3339))
	}
	return nil
}

func joinMax(ss []string, n int) string {
	out := ""
	for i, s := range ss {
		if i == n {
			return out + ", …"
		}
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}
