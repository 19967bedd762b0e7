package proxy_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/proxy"
)

func TestTLSFaultCertificates(t *testing.T) {
	t.Parallel()
	up := mustServe(t, echo)
	tests := []struct {
		mode  proxy.TLSMode
		trust bool // add the fault's certificate to the client's roots
		check func(error) bool
	}{
		{proxy.TLSExpired, true, func(err error) bool {
			var e x509.CertificateInvalidError
			return errors.As(err, &e) && e.Reason == x509.Expired
		}},
		{proxy.TLSWrongName, true, func(err error) bool {
			var e x509.HostnameError
			return errors.As(err, &e)
		}},
		{proxy.TLSUntrusted, false, func(err error) bool {
			var e x509.UnknownAuthorityError
			return errors.As(err, &e)
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			t.Parallel()
			p, addr := mustProxy(t, up)
			if err := p.AddFault(proxy.Fault{ID: "tls", Type: proxy.TLS, Percent: 100, TLSMode: tt.mode}); err != nil {
				t.Fatal(err)
			}
			roots := x509.NewCertPool()
			if tt.trust {
				pem, ok := p.Certificate("tls")
				if !ok || !roots.AppendCertsFromPEM(pem) {
					t.Fatal("no certificate for the TLS fault")
				}
			}
			d := &net.Dialer{Timeout: 2 * time.Second}
			c, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost"})
			if err == nil {
				_ = c.Close()
				t.Fatal("client accepted the certificate")
			}
			if !tt.check(err) {
				t.Fatalf("handshake error %v (%T) is not the expected kind", err, err)
			}
		})
	}
}
