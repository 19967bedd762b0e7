package server

import (
	"context"
	"net/http"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/audit"
)

// AuditVerifier verifies the audit log (internal/audit's *Log).
type AuditVerifier interface {
	Verify(ctx context.Context) (audit.Report, error)
}

func (s *Server) auditRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/audit/verify", s.handler(s.verifyAudit))
}

// verifyAudit answers 200 {"ok":true,"entries":N} or 409 with the first bad
// entry (DESIGN §5). It needs a viewer with global scope: the audit log
// covers every system.
func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	p, err := s.allow(r, bulwark.RoleViewer, bulwark.Resource{})
	if err != nil {
		return err
	}
	v, ok := s.Audit.(AuditVerifier)
	if !ok {
		return bulwark.Errorf(bulwark.EUNAVAILABLE, "this server keeps no audit log")
	}
	rep, err := v.Verify(r.Context())
	if err != nil {
		return err
	}
	status, reason := "ok", ""
	code := http.StatusOK
	if !rep.OK {
		status, reason, code = "error", rep.Problem, http.StatusConflict
	}
	s.record(r.Context(), p, "audit.verify", "audit", nil, status, reason)
	writeJSON(w, code, rep)
	return nil
}
