package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentpb"
	"github.com/bulwarkhq/bulwark/internal/pki"
)

// serverTarget is the parsed --server.
type serverTarget struct {
	addr string // host:port
	host string // for TLS verification
}

// parseServer accepts host:port, https://host:port or grpcs://host:port.
func parseServer(s string) (serverTarget, error) {
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "https" && u.Scheme != "grpcs") || u.Host == "" {
			return serverTarget{}, bulwark.Errorf(bulwark.EINVALID, "--server: %q is not host:port or https://host:port", s)
		}
		s = u.Host
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" || port == "" {
		return serverTarget{}, bulwark.Errorf(bulwark.EINVALID, "--server: %q is not host:port or https://host:port", s)
	}
	return serverTarget{addr: s, host: host}, nil
}

// pinServer adds the server's addresses (resolved now, at start) to the
// management networks every network fault keeps reachable, and its name to
// the names net.dns never overrides.
func (a *Agent) pinServer(ctx context.Context, t serverTarget) {
	h := a.cfg.Host
	if ip, err := netip.ParseAddr(t.host); err == nil {
		h.Management.Networks = append(h.Management.Networks, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
		return
	}
	h.ServerNames = append(h.ServerNames, t.host)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", t.host)
	if err != nil {
		a.log.Warn("resolve server for the management allow-list", "server", t.host, "err", err)
	}
	for _, ip := range ips {
		h.Management.Networks = append(h.Management.Networks, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
	}
}

// ManagementNetworks returns the networks the agent keeps reachable (for
// tests and `bulwark agent` logs).
func (a *Agent) ManagementNetworks() []netip.Prefix { return a.cfg.Host.Management.Networks }

func dial(t serverTarget, cfg *tls.Config) (*grpc.ClientConn, error) {
	return grpc.NewClient(t.addr,
		grpc.WithTransportCredentials(credentials.NewTLS(cfg)),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 20 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true}),
	)
}

// enrolTLS says whom to trust before the agent has the CA: a CA file, a
// pinned CA fingerprint, or (with neither) whatever CA the server presents,
// remembered from then on.
func (a *Agent) enrolTLS(t serverTarget, seen *x509.Certificate) (*tls.Config, error) {
	if a.cfg.CAFile != "" {
		ca, err := pki.ReadCert(a.cfg.CAFile)
		if err != nil {
			return nil, bulwark.Errorf(bulwark.EINVALID, "--ca-file: %v", err)
		}
		pool := x509.NewCertPool()
		pool.AddCert(ca)
		return pki.ClientTLS(pool, nil, t.host), nil
	}
	cfg := pki.ClientTLS(nil, nil, t.host)
	cfg.InsecureSkipVerify = true // verified below, against the pinned or presented CA
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		chain := cs.PeerCertificates
		if len(chain) < 2 {
			return errors.New("server sent no CA certificate with its own")
		}
		ca := chain[len(chain)-1]
		if a.cfg.CAPin != "" && pki.Fingerprint(ca) != strings.ToLower(a.cfg.CAPin) {
			return fmt.Errorf("server CA %s does not match --ca-pin", pki.Fingerprint(ca))
		}
		pool := x509.NewCertPool()
		pool.AddCert(ca)
		if _, err := chain[0].Verify(x509.VerifyOptions{Roots: pool, DNSName: t.host}); err != nil {
			return fmt.Errorf("server certificate: %w", err)
		}
		*seen = *ca
		return nil
	}
	return cfg, nil
}

// enrolRetrying enrols, retrying with jittered backoff while the server
// cannot be reached (an agent may start before its server); a refusal (bad,
// expired or revoked token, wrong scope, bad input) ends it at once.
func (a *Agent) enrolRetrying(ctx context.Context, t serverTarget) error {
	backoff := a.cfg.MinBackoff
	for {
		err := a.enrol(ctx, t)
		if err == nil || status.Code(errors.Unwrap(err)) != codes.Unavailable && status.Code(errors.Unwrap(err)) != codes.DeadlineExceeded {
			return err
		}
		wait := jitter(backoff)
		a.log.Warn("enrol: server unreachable; retrying", "err", err, "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		backoff = min(backoff*2, a.cfg.MaxBackoff)
	}
}

// enrol exchanges the join token and a new key's CSR for a certificate.
func (a *Agent) enrol(ctx context.Context, t serverTarget) error {
	if a.cfg.Token == "" {
		return bulwark.Errorf(bulwark.EINVALID, "--token: this agent is not enrolled; give a join token")
	}
	var seen x509.Certificate
	cfg, err := a.enrolTLS(t, &seen)
	if err != nil {
		return err
	}
	conn, err := dial(t, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	key, err := pki.NewKey()
	if err != nil {
		return err
	}
	csr, err := pki.NewCSR(key, a.id.Hostname)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := agentpb.NewAgentClient(conn).Enrol(ctx, &agentpb.EnrolRequest{
		ProtocolVersion: agentpb.ProtocolVersion, JoinToken: a.cfg.Token, Csr: csr,
		Hostname: a.id.Hostname, StateDir: a.id.StateDir, InstanceId: a.id.InstanceID,
	})
	if err != nil {
		return fmt.Errorf("enrol with %s: %w", t.addr, err)
	}
	if a.cfg.CAFile == "" && a.cfg.CAPin == "" && len(resp.GetCa()) > 0 {
		a.log.Warn("trusted the server's CA on first use; pin it with --ca-pin", "fingerprint", pki.Fingerprint(&seen))
	}
	a.id.Server = t.addr
	if err := a.id.store(resp, key); err != nil {
		return err
	}
	agentID := a.id.AgentID
	a.agentID.Store(&agentID)
	a.log.Info("enrolled", "agent", a.id.AgentID, "environment", a.id.Environment)
	return nil
}

// sessionTLS is the mTLS configuration once enrolled. Its session cache
// outlives the connection, so a reconnect (after a server restart too)
// resumes the TLS session instead of a full handshake; a new certificate
// starts a new cache.
func (a *Agent) sessionTLS(t serverTarget) *tls.Config {
	if a.tlsCache == nil || a.tlsCacheFor != a.id.cert {
		a.tlsCache, a.tlsCacheFor = tls.NewLRUClientSessionCache(4), a.id.cert
	}
	cfg := pki.ClientTLS(a.id.ca, a.id.tlsCert(), t.host)
	cfg.ClientSessionCache = a.tlsCache
	return cfg
}

// maybeRenew renews the certificate once two thirds of its life are used.
func (a *Agent) maybeRenew(ctx context.Context, client agentpb.AgentClient) {
	if !pki.NeedsRenewal(a.id.cert, time.Now()) {
		return
	}
	key, err := pki.NewKey()
	if err != nil {
		return
	}
	csr, err := pki.NewCSR(key, a.id.Hostname)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := client.Renew(ctx, &agentpb.RenewRequest{Csr: csr})
	if err == nil {
		err = a.id.store(resp, key)
	}
	if err != nil {
		a.log.Warn("renew certificate", "err", err, "notAfter", a.id.cert.NotAfter)
		return
	}
	a.log.Info("certificate renewed", "notAfter", a.id.cert.NotAfter)
}
