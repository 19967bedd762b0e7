package auth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/auth"
)

func TestNewToken(t *testing.T) {
	a, b := auth.NewToken(), auth.NewToken()
	if a == b || !strings.HasPrefix(a, auth.TokenPrefix) {
		t.Fatalf("tokens %q %q", a, b)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(a, auth.TokenPrefix))
	if err != nil || len(raw) != 32 {
		t.Fatalf("token body: %d bytes, %v", len(raw), err)
	}
	if h := auth.HashSecret(a); len(h) != 64 || h == auth.HashSecret(b) || strings.Contains(h, a) {
		t.Fatalf("hash %q", h)
	}
}

func TestPassword(t *testing.T) {
	p := auth.Argon2Params{Time: 1, Memory: 1024, Threads: 1}
	h := p.Hash("s3cret passphrase")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") || h == p.Hash("s3cret passphrase") {
		t.Fatalf("hash %q (want PHC argon2id with a fresh salt)", h)
	}
	for pw, want := range map[string]bool{"s3cret passphrase": true, "s3cret passphrasf": false, "": false} {
		ok, err := auth.CheckPassword(h, pw)
		if err != nil || ok != want {
			t.Errorf("%q: %v, %v; want %v", pw, ok, err, want)
		}
	}
	for _, bad := range []string{"", "$2a$10$bcrypt", "$argon2id$v=19$m=x$a$b", "$argon2id$v=18$m=1,t=1,p=1$a$b"} {
		if _, err := auth.CheckPassword(bad, "x"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestSessionExpiry: a session past its TTL is 401, and signing in sweeps
// ended sessions from the store.
func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, func(c *auth.Config) { c.SessionTTL = time.Hour })
	const pw = "correct horse battery"
	secret := e.localUser("gao", pw)
	c := jarClient(t)
	if code := e.login(c, "gao", pw, e.code(secret)); code != 200 {
		t.Fatalf("login: %d", code)
	}
	e.clock.Add(time.Hour)
	var ae apiError
	if code := doWith(t, c, "GET", e.srv.URL+"/api/v1/me", "", nil, &ae); code != 401 || !strings.Contains(ae.Error.Message, "expired") {
		t.Fatalf("expired session: %d %+v", code, ae)
	}
	if code := e.login(jarClient(t), "gao", pw, e.code(secret)); code != 200 {
		t.Fatalf("second login: %d", code)
	}
	if n, err := e.store.DeleteExpiredSessions(context.Background(), e.clock.Now()); err != nil || n != 0 {
		t.Fatalf("expired sessions left after a sign-in: %d, %v", n, err)
	}
}

// TestSecureCookieOverTLS: over TLS the session cookie is Secure.
func TestSecureCookieOverTLS(t *testing.T) {
	e := newEnv(t)
	const pw = "correct horse battery"
	secret := e.localUser("tls", pw)
	mux := http.NewServeMux()
	e.svc.Routes(mux)
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	body := bytes.NewBufferString(`{"name":"tls","password":"` + pw + `","totp":"` + e.code(secret) + `"}`)
	resp, err := srv.Client().Post(srv.URL+"/auth/login", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var found bool
	for _, c := range resp.Cookies() {
		if c.Name == auth.SessionCookie {
			found = true
			if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.MaxAge <= 0 {
				t.Fatalf("cookie %+v", c)
			}
		}
	}
	if resp.StatusCode != 200 || !found {
		t.Fatalf("login over TLS: %d, cookie %v", resp.StatusCode, found)
	}
}

// TestDisabledUser: a disabled user's tokens and sessions stop working,
// and so do the tokens of accounts it owns.
func TestDisabledUser(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u, tok := e.user("xu", bind(bulwark.RoleOperator, bulwark.ScopeGlobal, ""))
	owner, err := e.store.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := bulwark.Principal{ID: u.ID, Name: u.Name, Kind: bulwark.PrincipalUser}
	acct, err := e.svc.IssueAccountToken(ctx, p, auth.AccountRequest{Name: "bot", Role: bulwark.RoleViewer,
		Scope: bulwark.Scope{Kind: bulwark.ScopeGlobal}})
	if err != nil {
		t.Fatal(err)
	}
	owner.Disabled = true
	if err := e.store.UpdateUser(ctx, owner); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{tok, acct.Secret} {
		if code := e.do("GET", "/api/v1/me", secret, nil, nil); code != 401 {
			t.Errorf("token of a disabled user or its account: %d", code)
		}
	}
}
