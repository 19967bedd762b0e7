package pki

import (
	"context"
	"crypto/ecdsa"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// ServerTLS is the gateway's TLS configuration: TLS 1.3, the server
// certificate, and client certificates verified against the CA when given.
// A client certificate is optional at the handshake because enrolment has
// none; every other RPC must call PeerAgent, which requires one.
//
// Session tickets are encrypted with a key derived from the CA key, so a
// restarted server (or another replica with the same CA) resumes the
// agents' sessions without a full handshake; a resumed session keeps the
// client certificate it was verified with, and Go refuses to resume one
// whose certificate has expired.
func ServerTLS(ca *CA, cert tls.Certificate) *tls.Config {
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    ca.Pool(),
	}
	if key, err := ca.ticketKey(); err == nil {
		cfg.SetSessionTicketKeys([][32]byte{key})
	}
	return cfg
}

// ticketKey derives the session ticket key from the CA's private key.
func (ca *CA) ticketKey() ([32]byte, error) {
	var key [32]byte
	d, err := ca.Key.Bytes()
	if err != nil {
		return key, err
	}
	k, err := hkdf.Key(sha256.New, d, nil, "bulwark agent gateway session tickets v1", 32)
	if err != nil {
		return key, err
	}
	copy(key[:], k)
	return key, nil
}

// ClientTLS is an agent's TLS configuration: trust roots, and the client
// certificate when the agent has one (nil before enrolment).
// A caller that reconnects sets ClientSessionCache
// (tls.NewLRUClientSessionCache) on the result to resume its sessions.
func ClientTLS(roots *x509.CertPool, cert *tls.Certificate, serverName string) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots, ServerName: serverName}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return cfg
}

// PeerAgent returns the agent id and certificate of a gRPC call's verified
// client certificate, or an error when the call has none.
func PeerAgent(ctx context.Context) (string, *x509.Certificate, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return "", nil, fmt.Errorf("no peer")
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return "", nil, fmt.Errorf("no verified client certificate")
	}
	cert := info.State.VerifiedChains[0][0]
	id, ok := AgentID(cert)
	if !ok {
		return "", nil, fmt.Errorf("client certificate names no agent")
	}
	return id, cert, nil
}

// EncodeKey returns key in PEM.
func EncodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	return pemBlock("EC PRIVATE KEY", der), nil
}

// EncodeCert returns a DER certificate in PEM.
func EncodeCert(der []byte) []byte { return pemBlock("CERTIFICATE", der) }

// ReadCert reads the first PEM certificate in path.
func ReadCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	return ParseCertPEM(b)
}

// ParseCertPEM parses the first PEM certificate in b.
func ParseCertPEM(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("no PEM certificate")
	}
	return x509.ParseCertificate(blk.Bytes)
}

// ReadKey reads a PEM EC private key from path.
func ReadKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	return ParseKeyPEM(b)
}

// ParseKeyPEM parses a PEM EC private key.
func ParseKeyPEM(b []byte) (*ecdsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "EC PRIVATE KEY" {
		return nil, fmt.Errorf("no PEM EC private key")
	}
	return x509.ParseECPrivateKey(blk.Bytes)
}

// WriteFile writes data to path with mode perm atomically (temporary file
// and rename).
func WriteFile(path string, data []byte, perm os.FileMode) error { return writeFile(path, data, perm) }
