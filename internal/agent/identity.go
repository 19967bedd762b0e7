package agent

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentpb"
	"github.com/bulwarkhq/bulwark/internal/pki"
)

// Identity is what the agent keeps in <state-dir>/agent: who it is to the
// server. Several agents on one host with different state directories are
// different agents.
type Identity struct {
	AgentID     string    `json:"agentId,omitempty"`
	InstanceID  string    `json:"instanceId"`
	Hostname    string    `json:"hostname"`
	StateDir    string    `json:"stateDir"`
	Server      string    `json:"server,omitempty"`
	Environment string    `json:"environment,omitempty"`
	EnrolledAt  time.Time `json:"enrolledAt,omitzero"`

	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	ca   *x509.CertPool
}

// Files inside <state-dir>/agent.
const (
	identityFile = "identity.json"
	certFile     = "agent.crt"
	keyFile      = "agent.key"
	caFile       = "ca.crt"
)

// IdentityDir returns the agent directory inside a state directory.
func IdentityDir(stateDir string) string { return filepath.Join(stateDir, "agent") }

// loadIdentity reads the identity kept in stateDir, creating a new instance
// id (and nothing else) when there is none.
func loadIdentity(stateDir, hostname string) (*Identity, error) {
	dir := IdentityDir(stateDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create agent directory: %w", err)
	}
	id := &Identity{dir: dir}
	b, err := os.ReadFile(filepath.Join(dir, identityFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		id.InstanceID, id.Hostname, id.StateDir = bulwark.NewID(), hostname, stateDir
		return id, id.save()
	case err != nil:
		return nil, fmt.Errorf("read agent identity: %w", err)
	}
	if err := json.Unmarshal(b, id); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, identityFile), err)
	}
	if id.Hostname != hostname {
		return nil, fmt.Errorf("%s: enrolled as host %q but this host is %q; use another --state-dir or remove %s", dir, id.Hostname, hostname, dir)
	}
	if id.AgentID != "" {
		if err := id.loadCredentials(); err != nil {
			return nil, err
		}
	}
	return id, nil
}

func (id *Identity) loadCredentials() error {
	var err error
	if id.cert, err = pki.ReadCert(filepath.Join(id.dir, certFile)); err != nil {
		return fmt.Errorf("agent certificate: %w", err)
	}
	if id.key, err = pki.ReadKey(filepath.Join(id.dir, keyFile)); err != nil {
		return fmt.Errorf("agent key: %w", err)
	}
	ca, err := pki.ReadCert(filepath.Join(id.dir, caFile))
	if err != nil {
		return fmt.Errorf("agent ca: %w", err)
	}
	id.ca = x509.NewCertPool()
	id.ca.AddCert(ca)
	return nil
}

// Enrolled reports whether the identity has a certificate.
func (id *Identity) Enrolled() bool { return id.AgentID != "" && id.cert != nil }

// save writes identity.json (0600).
func (id *Identity) save() error {
	b, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return err
	}
	return pki.WriteFile(filepath.Join(id.dir, identityFile), b, 0o600)
}

// store keeps what enrolment or renewal returned: certificate and key 0600,
// the CA, and the identity.
func (id *Identity) store(resp *agentpb.EnrolResponse, key *ecdsa.PrivateKey) error {
	cert, err := x509.ParseCertificate(resp.GetCertificate())
	if err != nil {
		return fmt.Errorf("server returned a bad certificate: %w", err)
	}
	if len(resp.GetCa()) == 0 {
		return errors.New("server returned no CA")
	}
	ca, err := x509.ParseCertificate(resp.GetCa()[0])
	if err != nil {
		return fmt.Errorf("server returned a bad CA: %w", err)
	}
	keyPEM, err := pki.EncodeKey(key)
	if err != nil {
		return err
	}
	if err := pki.WriteFile(filepath.Join(id.dir, keyFile), keyPEM, 0o600); err != nil {
		return err
	}
	if err := pki.WriteFile(filepath.Join(id.dir, certFile), pki.EncodeCert(cert.Raw), 0o600); err != nil {
		return err
	}
	if err := pki.WriteFile(filepath.Join(id.dir, caFile), pki.EncodeCert(ca.Raw), 0o644); err != nil {
		return err
	}
	id.AgentID, id.Environment, id.cert, id.key = resp.GetAgentId(), resp.GetEnvironment(), cert, key
	id.ca = x509.NewCertPool()
	id.ca.AddCert(ca)
	if id.EnrolledAt.IsZero() {
		id.EnrolledAt = time.Now().UTC()
	}
	return id.save()
}

// tlsCert returns the client certificate for mTLS.
func (id *Identity) tlsCert() *tls.Certificate {
	return &tls.Certificate{Certificate: [][]byte{id.cert.Raw}, PrivateKey: id.key, Leaf: id.cert}
}
