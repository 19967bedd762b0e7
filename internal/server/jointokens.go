package server

import (
	"net/http"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
)

// joinTokenRoutes serves the agents' join tokens. Creating one for an
// environment needs admin of that environment: a join token decides which
// environment (and so which policy) a new host lands in.
func (s *Server) joinTokenRoutes(mux *http.ServeMux) {
	if s.Gateway == nil {
		return
	}
	mux.HandleFunc("POST /api/v1/agents/jointokens", s.handler(s.createJoinToken))
	mux.HandleFunc("GET /api/v1/agents/jointokens", s.handler(s.listJoinTokens))
	mux.HandleFunc("DELETE /api/v1/agents/jointokens/{id}", s.handler(s.revokeJoinToken))
	mux.HandleFunc("DELETE /api/v1/agents/{id}", s.handler(s.revokeAgent))
}

type joinTokenRequest struct {
	Name        string           `json:"name"`
	Environment string           `json:"environment"`
	Zone        string           `json:"zone,omitempty"`
	TTL         bulwark.Duration `json:"ttl,omitempty"`
}

func (s *Server) createJoinToken(w http.ResponseWriter, r *http.Request) error {
	var req joinTokenRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Environment == "" {
		return bulwark.Errorf(bulwark.EINVALID, "environment: required")
	}
	if _, err := s.Inventory.FindEnvironment(r.Context(), req.Environment); err != nil {
		if bulwark.ErrorCode(err) == bulwark.ENOTFOUND {
			return bulwark.Errorf(bulwark.EINVALID, "environment: %q is not in the inventory", req.Environment)
		}
		return err
	}
	p, err := s.allow(r, bulwark.RoleAdmin, bulwark.Resource{Environment: req.Environment})
	if err != nil {
		return err
	}
	secret, tok, err := s.Gateway.CreateJoinToken(r.Context(), agentgw.JoinTokenRequest{Name: req.Name,
		Environment: req.Environment, Zone: req.Zone, TTL: time.Duration(req.TTL), CreatedBy: p.ID})
	if err != nil {
		return err
	}
	s.record(r.Context(), p, "agent.jointoken.create", "jointoken/"+tok.ID, req, "ok", "")
	writeJSON(w, http.StatusCreated, map[string]any{"token": secret, "joinToken": tok})
	return nil
}

func (s *Server) listJoinTokens(w http.ResponseWriter, r *http.Request) error {
	toks, err := s.Gateway.JoinTokens(r.Context())
	if err != nil {
		return err
	}
	out, err := visible(s, r, bulwark.RoleAdmin, toks, func(t *agentstore.JoinToken) bulwark.Resource {
		return bulwark.Resource{Environment: t.Environment}
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"joinTokens": out})
	return nil
}

func (s *Server) revokeJoinToken(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	toks, err := s.Gateway.JoinTokens(r.Context())
	if err != nil {
		return err
	}
	for _, t := range toks {
		if t.ID != id {
			continue
		}
		p, err := s.allow(r, bulwark.RoleAdmin, bulwark.Resource{Environment: t.Environment})
		if err != nil {
			return err
		}
		if err := s.Gateway.RevokeJoinToken(r.Context(), id); err != nil {
			return err
		}
		s.record(r.Context(), p, "agent.jointoken.revoke", "jointoken/"+id, nil, "ok", "")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return bulwark.Errorf(bulwark.ENOTFOUND, "join token %q not found", id)
}

// revokeAgent revokes an agent's identity: its certificate is refused from
// then on and its stream is closed. Its faults end by its lease. It needs
// admin of the agent's environment (and system, when it has one).
func (s *Server) revokeAgent(w http.ResponseWriter, r *http.Request) error {
	a, err := s.Gateway.Agent(r.PathValue("id"))
	if err != nil {
		return err
	}
	res := bulwark.Resource{Environment: a.Labels[bulwark.LabelEnv], System: a.Labels[bulwark.LabelSystem]}
	p, err := s.allow(r, bulwark.RoleAdmin, res)
	if err != nil {
		return err
	}
	if err := s.Gateway.RevokeAgent(r.Context(), a.ID); err != nil {
		return err
	}
	s.record(r.Context(), p, "agent.revoke", "agent/"+a.ID, map[string]string{"hostname": a.Hostname}, "ok", "")
	w.WriteHeader(http.StatusNoContent)
	return nil
}
