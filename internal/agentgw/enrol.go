package agentgw

import (
	"context"
	"crypto/x509"
	"regexp"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
	"github.com/bulwarkhq/bulwark/internal/agentpb"
	"github.com/bulwarkhq/bulwark/internal/pki"
)

var hostnameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`) })

// Enrol implements agentpb.AgentServer: a valid join token and a CSR give
// the agent an id and a client certificate bound to its hostname and id.
func (g *Gateway) Enrol(ctx context.Context, req *agentpb.EnrolRequest) (*agentpb.EnrolResponse, error) {
	if err := checkVersion(req.GetProtocolVersion()); err != nil {
		return nil, err
	}
	switch {
	case !hostnameRE().MatchString(req.GetHostname()):
		return nil, status.Errorf(codes.InvalidArgument, "hostname %q is not a valid host name", req.GetHostname())
	case !bulwark.ValidID(req.GetInstanceId()):
		return nil, status.Errorf(codes.InvalidArgument, "instance_id %q is not a bulwark id", req.GetInstanceId())
	}
	tok, err := g.checkToken(ctx, req.GetJoinToken())
	if err != nil {
		return nil, err
	}
	serverLabels, env, err := g.checkScope(ctx, tok, req.GetHostname())
	if err != nil {
		return nil, err
	}
	rec, err := g.enrolRecord(ctx, req, tok)
	if err != nil {
		return nil, err
	}
	cert, err := g.cfg.CA.SignAgent(req.GetCsr(), rec.Hostname, rec.ID, g.cfg.CertValidity)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "csr: %v", err)
	}
	rec.CertSerial, rec.CertNotAfter = cert.SerialNumber.Text(16), cert.NotAfter.UTC()
	if err := g.saveEnrolled(ctx, rec, serverLabels, env); err != nil {
		return nil, err
	}
	if err := g.cfg.Store.UseJoinToken(ctx, tok.ID); err != nil {
		g.log.Warn("count join token use", "token", tok.ID, "err", err)
	}
	g.log.Info("agent enrolled", "agent", rec.ID, "hostname", rec.Hostname, "environment", rec.Environment, "token", tok.Name)
	return g.enrolResponse(rec, cert), nil
}

func checkVersion(v uint32) error {
	if v < agentpb.MinProtocolVersion || v > agentpb.ProtocolVersion {
		return status.Errorf(codes.FailedPrecondition, "protocol_version %d is not supported: this server speaks %d and %d",
			v, agentpb.MinProtocolVersion, agentpb.ProtocolVersion)
	}
	return nil
}

// checkToken finds the join token by its hash and refuses an unknown,
// revoked or expired one. The three answers differ so that an operator can
// tell them apart; none reveals anything about other tokens.
func (g *Gateway) checkToken(ctx context.Context, secret string) (*agentstore.JoinToken, error) {
	if secret == "" {
		return nil, status.Error(codes.Unauthenticated, "a join token is required to enrol")
	}
	tok, err := g.cfg.Store.JoinTokenByHash(ctx, agentstore.HashToken(secret))
	switch {
	case bulwark.ErrorCode(err) == bulwark.ENOTFOUND:
		return nil, status.Error(codes.Unauthenticated, "join token is not valid")
	case err != nil:
		return nil, status.Errorf(codes.Unavailable, "look up join token: %v", err)
	case tok.RevokedAt != nil:
		return nil, status.Errorf(codes.Unauthenticated, "join token %q was revoked", tok.Name)
	case !g.cfg.Now().Before(tok.ExpiresAt):
		return nil, status.Errorf(codes.Unauthenticated, "join token %q expired at %s", tok.Name, tok.ExpiresAt.Format("2006-01-02T15:04:05Z07:00"))
	}
	return tok, nil
}

// checkScope refuses a host that the inventory places in another
// environment or zone than the token's, and returns the host's
// server-owned labels and environment.
func (g *Gateway) checkScope(ctx context.Context, tok *agentstore.JoinToken, hostname string) (map[string]string, bulwark.Environment, error) {
	if g.cfg.Inventory == nil {
		return nil, bulwark.Environment{}, nil
	}
	labels, env, err := g.cfg.Inventory.HostLabels(ctx, hostname)
	switch {
	case bulwark.ErrorCode(err) == bulwark.ENOTFOUND:
		return nil, bulwark.Environment{}, nil
	case err != nil:
		return nil, bulwark.Environment{}, status.Errorf(codes.Unavailable, "inventory: %v", err)
	case env.Name != "" && env.Name != tok.Environment:
		return nil, env, status.Errorf(codes.PermissionDenied, "host %s is in environment %q in the inventory; this join token enrols into %q", hostname, env.Name, tok.Environment)
	case tok.Zone != "" && labels[bulwark.LabelZone] != tok.Zone:
		return nil, env, status.Errorf(codes.PermissionDenied, "host %s is in zone %q in the inventory; this join token enrols into zone %q", hostname, labels[bulwark.LabelZone], tok.Zone)
	}
	return labels, env, nil
}

// enrolRecord returns the agent record to (re)issue a certificate for: the
// existing one for the same instance on the same host, or a new one.
func (g *Gateway) enrolRecord(ctx context.Context, req *agentpb.EnrolRequest, tok *agentstore.JoinToken) (*agentstore.Agent, error) {
	old, err := g.cfg.Store.FindAgentByInstance(ctx, req.GetInstanceId())
	switch {
	case err == nil && old.Hostname == req.GetHostname() && old.RevokedAt == nil:
		old.Environment, old.Zone, old.JoinTokenID = tok.Environment, tok.Zone, tok.ID
		return old, nil
	case err == nil:
		return nil, status.Errorf(codes.AlreadyExists, "instance %s is enrolled for another host or revoked; use a new state directory", req.GetInstanceId())
	case bulwark.ErrorCode(err) != bulwark.ENOTFOUND:
		return nil, status.Errorf(codes.Unavailable, "look up agent: %v", err)
	}
	return &agentstore.Agent{
		ID: bulwark.NewID(), Hostname: req.GetHostname(), StateDir: req.GetStateDir(), InstanceID: req.GetInstanceId(),
		Environment: tok.Environment, Zone: tok.Zone, JoinTokenID: tok.ID, EnrolledAt: g.cfg.Now().UTC(),
	}, nil
}

func (g *Gateway) saveEnrolled(ctx context.Context, rec *agentstore.Agent, serverLabels map[string]string, env bulwark.Environment) error {
	g.mu.Lock()
	_, known := g.agents[rec.ID]
	g.mu.Unlock()
	var err error
	if known {
		err = g.cfg.Store.PutAgents(ctx, []*agentstore.Agent{rec})
	} else {
		err = g.cfg.Store.CreateAgent(ctx, rec)
	}
	if err != nil {
		return status.Errorf(codes.Unavailable, "store agent: %v", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if a, ok := g.agents[rec.ID]; ok {
		a.rec.CertSerial, a.rec.CertNotAfter = rec.CertSerial, rec.CertNotAfter
		a.rec.Environment, a.rec.Zone, a.rec.JoinTokenID = rec.Environment, rec.Zone, rec.JoinTokenID
		return nil
	}
	g.agents[rec.ID] = &agentState{rec: rec.Clone(), status: StatusDisconnected, serverLabels: serverLabels, env: env}
	return nil
}

func (g *Gateway) enrolResponse(rec *agentstore.Agent, cert *x509.Certificate) *agentpb.EnrolResponse {
	return &agentpb.EnrolResponse{
		AgentId: rec.ID, Certificate: cert.Raw, Ca: [][]byte{g.cfg.CA.Cert.Raw},
		Environment: rec.Environment, NotAfterUnix: cert.NotAfter.Unix(),
	}
}

// Renew implements agentpb.AgentServer: an agent with a valid certificate
// gets a new one for a new key, with the same hostname and id.
func (g *Gateway) Renew(ctx context.Context, req *agentpb.RenewRequest) (*agentpb.EnrolResponse, error) {
	a, err := g.peer(ctx)
	if err != nil {
		return nil, err
	}
	cert, err := g.cfg.CA.SignAgent(req.GetCsr(), a.Hostname, a.ID, g.cfg.CertValidity)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "csr: %v", err)
	}
	g.mu.Lock()
	if st, ok := g.agents[a.ID]; ok {
		st.rec.CertSerial, st.rec.CertNotAfter = cert.SerialNumber.Text(16), cert.NotAfter.UTC()
		g.markDirtyLocked(a.ID)
	}
	g.mu.Unlock()
	return g.enrolResponse(a, cert), nil
}

// peer returns the enrolled, unrevoked agent named by the call's verified
// client certificate.
func (g *Gateway) peer(ctx context.Context) (*agentstore.Agent, error) {
	id, _, err := pki.PeerAgent(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Unauthenticated, "%v: enrol first", err)
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	a, ok := g.agents[id]
	switch {
	case !ok:
		return nil, status.Errorf(codes.PermissionDenied, "agent %s is not enrolled here", id)
	case a.rec.RevokedAt != nil:
		return nil, status.Errorf(codes.PermissionDenied, "agent %s was revoked", id)
	}
	return a.rec.Clone(), nil
}
