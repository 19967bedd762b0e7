package server

import (
	"context"
	"log/slog"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/audit"
)

// Auditor records one entry of the hash-chained audit log (internal/audit's
// *Log). Record must not lose an entry when the store is down: the log
// spools it and appends it later.
type Auditor interface {
	Record(ctx context.Context, e audit.Entry) (audit.Entry, error)
}

type discardAudit struct{}

func (discardAudit) Record(_ context.Context, e audit.Entry) (audit.Entry, error) { return e, nil }

// actorOf maps a principal to the audit log's actor.
func actorOf(p bulwark.Principal) audit.Actor {
	switch p.Kind {
	case bulwark.PrincipalUser:
		return audit.Actor{ID: p.ID, Kind: audit.ActorUser}
	case bulwark.PrincipalAccount:
		return audit.Actor{ID: p.ID, Kind: audit.ActorAccount}
	case bulwark.PrincipalAgent:
		return audit.Actor{ID: p.ID, Kind: audit.ActorAgent}
	default:
		id := p.ID
		if id == "" {
			id = "bulwark-server"
		}
		return audit.Actor{ID: id, Kind: audit.ActorSystem}
	}
}

// record writes an audit entry for an action; body is the canonical request
// (any JSON-encodable value). A failure to record is logged, never hidden:
// the audit log spools when its store is down, so an error here is serious.
func (s *Server) record(ctx context.Context, p bulwark.Principal, action, resource string, body any, status, reason string) {
	digest := ""
	if body != nil {
		if b, err := audit.Canonical(body); err == nil {
			digest = audit.DigestBytes(b)
		}
	}
	if digest == "" {
		digest = audit.DigestBytes(nil)
	}
	e := audit.Entry{Actor: actorOf(p), Action: action, Resource: resource, RequestDigest: digest,
		Result: audit.Result{Status: status, Reason: reason}}
	if _, err := s.Audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.Logger.Error("audit record failed", slog.String("action", action), slog.String("resource", resource), slog.Any("err", err))
		s.metrics.auditFailures.Inc()
	}
}
