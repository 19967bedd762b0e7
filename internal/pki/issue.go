package pki

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Default validity periods. Agent certificates are short-lived and renewed
// once two thirds of their life has passed (NeedsRenewal).
const (
	AgentValidity  = 7 * 24 * time.Hour
	ServerValidity = 90 * 24 * time.Hour
)

// AgentURIPrefix starts the URI SAN that names an agent.
const AgentURIPrefix = "bulwark://agent/"

// ServerCert issues a server certificate for hosts (DNS names or IP
// addresses); localhost and 127.0.0.1 are always included so that a
// gateway can be reached on loopback.
func (ca *CA) ServerCert(hosts []string, validity time.Duration) (tls.Certificate, error) {
	key, err := NewKey()
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := ca.template(validity)
	tmpl.Subject = pkix.Name{CommonName: "bulwark server", Organization: []string{"Bulwark"}}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	for _, h := range append([]string{"localhost", "127.0.0.1", "::1"}, hosts...) {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("sign server certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key}, nil
}

// SignAgent checks csrDER's signature and issues a client certificate for it
// bound to hostname (SAN DNS) and agentID (SAN URI bulwark://agent/<id>).
// Whatever names the request asks for are ignored: the CA decides them.
func (ca *CA) SignAgent(csrDER []byte, hostname, agentID string, validity time.Duration) (*x509.Certificate, error) {
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		return nil, fmt.Errorf("parse certificate request: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("certificate request signature: %w", err)
	}
	if _, ok := csr.PublicKey.(*ecdsa.PublicKey); !ok {
		return nil, fmt.Errorf("certificate request: key must be ECDSA, not %T", csr.PublicKey)
	}
	if hostname == "" || agentID == "" || strings.ContainsAny(agentID, "/?#") {
		return nil, fmt.Errorf("agent certificate needs a hostname and a plain id")
	}
	tmpl := ca.template(validity)
	tmpl.Subject = pkix.Name{CommonName: hostname, Organization: []string{"Bulwark agent"}}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	tmpl.DNSNames = []string{hostname}
	tmpl.URIs = []*url.URL{AgentURI(agentID)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, csr.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign agent certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

func (ca *CA) template(validity time.Duration) *x509.Certificate {
	now := ca.now()
	return &x509.Certificate{
		SerialNumber: serial(),
		NotBefore:    now.Add(-min(5*time.Minute, validity/10)), // tolerate small clock differences
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
}

func (ca *CA) now() time.Time {
	if ca.Now == nil {
		return time.Now()
	}
	return ca.Now()
}

// AgentURI returns the URI SAN that names agent id.
func AgentURI(id string) *url.URL {
	u, _ := url.Parse(AgentURIPrefix + id)
	return u
}

// AgentID returns the agent id named by cert's URI SAN.
func AgentID(cert *x509.Certificate) (string, bool) {
	for _, u := range cert.URIs {
		if s := u.String(); strings.HasPrefix(s, AgentURIPrefix) && len(s) > len(AgentURIPrefix) {
			return strings.TrimPrefix(s, AgentURIPrefix), true
		}
	}
	return "", false
}

// NewCSR returns a DER certificate request for key naming hostname.
func NewCSR(key *ecdsa.PrivateKey, hostname string) ([]byte, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: hostname}, DNSNames: []string{hostname},
	}, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate request: %w", err)
	}
	return der, nil
}

// NeedsRenewal reports whether cert has used up two thirds of its validity
// at now (or has expired).
func NeedsRenewal(cert *x509.Certificate, now time.Time) bool {
	life := cert.NotAfter.Sub(cert.NotBefore)
	return now.After(cert.NotBefore.Add(life * 2 / 3))
}
