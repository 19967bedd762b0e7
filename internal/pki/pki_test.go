package pki_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/pki"
)

func TestLoadOrCreateKeepsKeyPrivateAndReloads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	ca, err := pki.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("ca.key mode = %v, want 0600", st.Mode().Perm())
	}
	again, err := pki.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.Fingerprint() != ca.Fingerprint() {
		t.Fatal("reloading made a different CA")
	}
	if err := os.Remove(filepath.Join(dir, "ca.crt")); err != nil {
		t.Fatal(err)
	}
	if _, err := pki.LoadOrCreate(dir); err == nil {
		t.Fatal("a key without its certificate was silently replaced")
	}
}

func TestSignAgentBindsHostnameAndID(t *testing.T) {
	ca, err := pki.New("test")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := pki.NewKey()
	csr, err := pki.NewCSR(key, "evil.example") // names asked for are ignored
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.SignAgent(csr, "host-a", "0190-abc", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.DNSNames) != 1 || cert.DNSNames[0] != "host-a" {
		t.Fatalf("DNS SANs = %v", cert.DNSNames)
	}
	if id, ok := pki.AgentID(cert); !ok || id != "0190-abc" {
		t.Fatalf("AgentID = %q %v", id, ok)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("verify against own CA: %v", err)
	}
	other, _ := pki.New("other")
	if _, err := cert.Verify(x509.VerifyOptions{Roots: other.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Fatal("verified against another CA")
	}
	if _, err := ca.SignAgent([]byte("junk"), "h", "id", time.Hour); err == nil {
		t.Fatal("signed a junk request")
	}
}

func TestNeedsRenewal(t *testing.T) {
	ca, _ := pki.New("test")
	key, _ := pki.NewKey()
	csr, _ := pki.NewCSR(key, "h")
	cert, err := ca.SignAgent(csr, "h", "id", 3*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if pki.NeedsRenewal(cert, time.Now()) {
		t.Fatal("fresh certificate needs renewal")
	}
	if !pki.NeedsRenewal(cert, time.Now().Add(2*time.Hour)) {
		t.Fatal("certificate past two thirds of its life does not need renewal")
	}
}

func TestMutualTLSRefusesForeignClient(t *testing.T) {
	ca, _ := pki.New("test")
	srvCert, err := ca.ServerCert(nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", pki.ServerTLS(ca, srvCert))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	other, _ := pki.New("other")
	key, _ := pki.NewKey()
	csr, _ := pki.NewCSR(key, "h")
	foreign, _ := other.SignAgent(csr, "h", "id", time.Hour)
	cc := &tls.Certificate{Certificate: [][]byte{foreign.Raw}, PrivateKey: key}
	c, err := tls.Dial("tcp", ln.Addr().String(), pki.ClientTLS(ca.Pool(), cc, "localhost"))
	if err == nil {
		// TLS 1.3: the client learns of the rejection on its first read.
		_, err = c.Read(make([]byte, 1))
		c.Close()
	}
	if err == nil {
		t.Fatal("server accepted a client certificate from another CA")
	}
}

// TestRestartedServerResumesSessions: a server restarted with the same CA
// resumes a client's TLS session (no full handshake) and still knows the
// client's verified certificate.
func TestRestartedServerResumesSessions(t *testing.T) {
	ca, _ := pki.New("test")
	key, _ := pki.NewKey()
	csr, _ := pki.NewCSR(key, "h")
	agentCert, _ := ca.SignAgent(csr, "h", "agent-1", time.Hour)
	client := pki.ClientTLS(ca.Pool(), &tls.Certificate{Certificate: [][]byte{agentCert.Raw}, PrivateKey: key}, "localhost")
	client.ClientSessionCache = tls.NewLRUClientSessionCache(1)
	connect := func() (resumed bool, peer string) {
		srvCert, err := ca.ServerCert(nil, time.Hour) // a new server: new certificate, same CA
		if err != nil {
			t.Fatal(err)
		}
		ln, err := tls.Listen("tcp", "127.0.0.1:0", pki.ServerTLS(ca, srvCert))
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		got := make(chan string, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				got <- err.Error()
				return
			}
			defer c.Close()
			tc := c.(*tls.Conn)
			if err := tc.Handshake(); err != nil {
				got <- err.Error()
				return
			}
			st := tc.ConnectionState()
			id := "no verified chain"
			if len(st.VerifiedChains) > 0 {
				id, _ = pki.AgentID(st.VerifiedChains[0][0])
			}
			_, _ = c.Write([]byte("x")) // lets the client read its session ticket
			got <- id
		}()
		c, err := tls.Dial("tcp", ln.Addr().String(), client)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Read(make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		return c.ConnectionState().DidResume, <-got
	}
	if resumed, peer := connect(); resumed || peer != "agent-1" {
		t.Fatalf("first connection: resumed=%v peer=%q", resumed, peer)
	}
	if resumed, peer := connect(); !resumed || peer != "agent-1" {
		t.Fatalf("after restart: resumed=%v peer=%q, want a resumed session that knows agent-1", resumed, peer)
	}
}
