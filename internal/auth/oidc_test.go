package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/auth"
)

// oidcEnv is an env with SSO enabled against a test IdP.
func oidcEnv(t *testing.T) (*env, *testIdP) {
	e := newEnv(t)
	idp := newTestIdP(t, e.clock.Now)
	err := e.svc.EnableOIDC(context.Background(), auth.OIDCConfig{
		Issuer: idp.srv.URL, ClientID: testClientID, ClientSecret: "s3cret",
		RedirectURL: e.srv.URL + "/auth/oidc/callback", AfterLogin: "/api/v1/me",
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, idp
}

type meAnswer struct {
	Principal bulwark.Principal `json:"principal"`
	User      *auth.User        `json:"user"`
}

// ssoLogin runs the browser side of the flow with a real client and cookie
// jar, following every redirect, and returns the last status and answer.
func ssoLogin(t *testing.T, e *env, c *http.Client) (int, meAnswer, apiError) {
	t.Helper()
	resp, err := c.Get(e.srv.URL + "/auth/oidc/login")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var me meAnswer
	var ae apiError
	if resp.StatusCode == 200 {
		decodeBody(t, resp, &me)
	} else {
		decodeBody(t, resp, &ae)
	}
	return resp.StatusCode, me, ae
}

func decodeBody(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	if err := jsonDecode(resp, v); err != nil {
		t.Fatal(err)
	}
}

// TestOIDCLogin: the first login provisions the user from the claims and
// ends in a session; the next finds the same user and refreshes its name.
func TestOIDCLogin(t *testing.T) {
	e, idp := oidcEnv(t)
	c := jarClient(t)
	code, me, ae := ssoLogin(t, e, c)
	if code != 200 {
		t.Fatalf("sso login: %d %+v", code, ae)
	}
	u := me.User
	if me.Principal.Kind != bulwark.PrincipalUser || u == nil || u.Name != "liu.yang" || u.Email != "liu.yang@example.com" ||
		u.DisplayName != "刘洋" || u.Issuer != idp.srv.URL || u.Subject != "E1001" {
		t.Fatalf("provisioned %+v %+v", me.Principal, u)
	}
	idp.set(func(p *testIdP) { p.user.Name = "刘洋 (运维)" })
	code, me2, _ := ssoLogin(t, e, jarClient(t))
	if code != 200 || me2.User.ID != u.ID || me2.User.DisplayName != "刘洋 (运维)" {
		t.Fatalf("second login: %d %+v, want the same user %s renamed", code, me2.User, u.ID)
	}
	users, _ := e.store.Users(context.Background())
	if len(users) != 2 { // admin and liu.yang
		t.Fatalf("%d users after two logins, want 2", len(users))
	}
}

// TestOIDCSessionCookie checks the cookie the callback sets.
func TestOIDCSessionCookie(t *testing.T) {
	e, _ := oidcEnv(t)
	c := jarClient(t)
	var session *http.Cookie
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		for _, ck := range req.Response.Cookies() {
			if ck.Name == auth.SessionCookie {
				session = ck
			}
		}
		return nil
	}
	if code, _, ae := ssoLogin(t, e, c); code != 200 {
		t.Fatalf("sso login: %d %+v", code, ae)
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || len(session.Value) != 43 {
		t.Fatalf("session cookie %+v", session)
	}
	// The store has its hash, not the value.
	if _, err := e.store.SessionByHash(context.Background(), session.Value); bulwark.ErrorCode(err) != bulwark.ENOTFOUND {
		t.Fatalf("session stored by its value: %v", err)
	}
	if _, err := e.store.SessionByHash(context.Background(), auth.HashSecret(session.Value)); err != nil {
		t.Fatalf("session not stored by its hash: %v", err)
	}
}

// TestOIDCRejects: a wrong nonce, audience, state or signature ends in 401
// and no session.
func TestOIDCRejects(t *testing.T) {
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		knob func(p *testIdP)
		want string
	}{
		{"nonce", func(p *testIdP) { p.nonce = "replayed-nonce" }, "nonce"},
		{"audience", func(p *testIdP) { p.aud = "another-client" }, "audience"},
		{"state", func(p *testIdP) { p.state = "forged-state" }, "state"},
		{"signature", func(p *testIdP) { p.signer = other }, "signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, idp := oidcEnv(t)
			idp.set(tc.knob)
			c := jarClient(t)
			code, _, ae := ssoLogin(t, e, c)
			if code != 401 || !strings.Contains(strings.ToLower(ae.Error.Message), tc.want) {
				t.Fatalf("%d %+v, want 401 about %s", code, ae, tc.want)
			}
			if code := doWith(t, c, "GET", e.srv.URL+"/api/v1/me", "", nil, nil); code != 401 {
				t.Fatalf("session after a refused login: %d", code)
			}
			users, _ := e.store.Users(context.Background())
			if len(users) != 1 {
				t.Fatalf("a refused login provisioned a user: %d users", len(users))
			}
		})
	}
}

// TestOIDCCallbackOtherBrowser: a callback URL taken from one browser's
// login and opened in another (login CSRF) is refused, and a callback
// cannot be used twice.
func TestOIDCCallbackOtherBrowser(t *testing.T) {
	e, _ := oidcEnv(t)
	victim := jarClient(t)
	var callback string
	stop := errors.New("stop at callback")
	victim.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), e.srv.URL+"/auth/oidc/callback") {
			callback = req.URL.String()
			return stop
		}
		return nil
	}
	resp, err := victim.Get(e.srv.URL + "/auth/oidc/login")
	if err == nil || !errors.Is(err, stop) {
		t.Fatalf("login: %v", err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	var ae apiError
	if code := doWith(t, jarClient(t), "GET", callback, "", nil, &ae); code != 401 || !strings.Contains(ae.Error.Message, "state") {
		t.Fatalf("callback in another browser: %d %+v", code, ae)
	}
	victim.CheckRedirect = nil
	// The refused attempt did not use up the pending login (the cookie is
	// checked first), so the real browser still finishes, once.
	var me meAnswer
	if code := doWith(t, victim, "GET", callback, "", nil, &me); code != 200 || me.User == nil {
		t.Fatalf("callback in the right browser: %d %+v", code, me)
	}
	if code := doWith(t, victim, "GET", callback, "", nil, &ae); code != 401 {
		t.Fatalf("callback used twice: %d", code)
	}
}
