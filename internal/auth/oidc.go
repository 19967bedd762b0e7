package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/bulwarkhq/bulwark"
)

// OIDCConfig configures single sign-on with an OpenID Connect provider (the
// firm's IdP, 4A or CAS with OIDC).
type OIDCConfig struct {
	Issuer       string   // discovery at Issuer + /.well-known/openid-configuration
	ClientID     string   // also the audience the ID token must name
	ClientSecret string   // may be empty for a public client (PKCE)
	RedirectURL  string   // this server's /auth/oidc/callback, as registered
	Scopes       []string // besides "openid"; default profile, email
	// AfterLogin is where the browser goes once signed in (default "/").
	AfterLogin string
	// HTTPClient talks to the provider (default http.DefaultClient).
	HTTPClient *http.Client
}

// oidcClient is a configured provider plus the logins in flight.
type oidcClient struct {
	cfg      OIDCConfig
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier

	mu      sync.Mutex
	pending map[string]pendingLogin // by state
}

// pendingLogin is what the callback checks, kept on the server: the nonce
// the ID token must carry and the PKCE verifier.
type pendingLogin struct {
	nonce, verifier string
	expires         time.Time
}

// oidcStateCookie binds a login in flight to the browser that started it.
const oidcStateCookie = "bulwark_oidc_state"

// loginTTL is how long a started login may take to come back.
const loginTTL = 10 * time.Minute

// EnableOIDC discovers the provider and turns on /auth/oidc/login and
// /auth/oidc/callback. ctx bounds the discovery request only.
func (s *Service) EnableOIDC(ctx context.Context, cfg OIDCConfig) error {
	var errs []error
	for name, v := range map[string]string{"issuer": cfg.Issuer, "clientID": cfg.ClientID, "redirectURL": cfg.RedirectURL} {
		if v == "" {
			errs = append(errs, fmt.Errorf("oidc: %s is required", name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return bulwark.Errorf(bulwark.EINVALID, "%v", err)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.AfterLogin == "" {
		cfg.AfterLogin = "/"
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{"profile", "email"}
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, cfg.HTTPClient), cfg.Issuer)
	if err != nil {
		return fmt.Errorf("oidc: discover %s: %w", cfg.Issuer, err)
	}
	s.oidc = &oidcClient{
		cfg: cfg,
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
			Endpoint: p.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID}, cfg.Scopes...)},
		verifier: p.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: s.cfg.Now}),
		pending:  map[string]pendingLogin{},
	}
	return nil
}

// handleOIDCLogin starts the authorization-code flow: fresh state, nonce and
// PKCE verifier, the state also in a short-lived cookie, then a redirect to
// the provider.
func (s *Service) handleOIDCLogin(w http.ResponseWriter, r *http.Request) {
	c := s.oidc
	if c == nil {
		s.fail(w, bulwark.Errorf(bulwark.ENOTFOUND, "single sign-on is not configured"))
		return
	}
	state, nonce, verifier := randomString(32), randomString(32), oauth2.GenerateVerifier()
	now := s.now()
	c.mu.Lock()
	for k, p := range c.pending {
		if now.After(p.expires) {
			delete(c.pending, k)
		}
	}
	c.pending[state] = pendingLogin{nonce: nonce, verifier: verifier, expires: now.Add(loginTTL)}
	c.mu.Unlock()
	http.SetCookie(w, s.cookie(r, oidcStateCookie, state, loginTTL))
	http.Redirect(w, r, c.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// take removes and returns the pending login of state.
func (c *oidcClient) take(state string, now time.Time) (pendingLogin, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.pending[state]
	delete(c.pending, state)
	return p, ok && now.Before(p.expires)
}

// handleOIDCCallback checks state against the cookie and the pending
// login, exchanges the code with the PKCE verifier, verifies the ID token
// (signature, issuer, audience, expiry, nonce), provisions or updates the
// user and starts a session.
func (s *Service) handleOIDCCallback(w http.ResponseWriter, r *http.Request) {
	c := s.oidc
	if c == nil {
		s.fail(w, bulwark.Errorf(bulwark.ENOTFOUND, "single sign-on is not configured"))
		return
	}
	u, err := s.oidcCallback(r)
	who := bulwark.Principal{Kind: bulwark.PrincipalUser}
	if u != nil {
		who.ID, who.Name = u.ID, u.Name
	}
	s.audit(r.Context(), who, "login oidc", err)
	if err == nil {
		err = s.StartSession(r.Context(), w, r, u.ID)
	}
	http.SetCookie(w, s.cookie(r, oidcStateCookie, "", 0))
	if err != nil {
		s.log.Warn("oidc sign-in refused", "err", err)
		s.fail(w, err)
		return
	}
	http.Redirect(w, r, c.cfg.AfterLogin, http.StatusFound)
}

func (s *Service) oidcCallback(r *http.Request) (*User, error) {
	c, q := s.oidc, r.URL.Query()
	if e := q.Get("error"); e != "" {
		return nil, bulwark.Errorf(bulwark.EUNAUTHORIZED, "identity provider refused: %s %s", e, q.Get("error_description"))
	}
	state := q.Get("state")
	ck, err := r.Cookie(oidcStateCookie)
	if err != nil || state == "" || ck.Value != state {
		return nil, bulwark.Errorf(bulwark.EUNAUTHORIZED, "sign-in state does not match this browser: start again")
	}
	p, ok := c.take(state, s.now())
	if !ok {
		return nil, bulwark.Errorf(bulwark.EUNAUTHORIZED, "sign-in unknown or expired: start again")
	}
	ctx := oidc.ClientContext(r.Context(), c.cfg.HTTPClient)
	tok, err := c.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		return nil, bulwark.Errorf(bulwark.EUNAUTHORIZED, "exchange code: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, bulwark.Errorf(bulwark.EUNAUTHORIZED, "identity provider returned no id_token")
	}
	idt, err := c.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, bulwark.Errorf(bulwark.EUNAUTHORIZED, "id token: %v", err)
	}
	if idt.Nonce != p.nonce {
		return nil, bulwark.Errorf(bulwark.EUNAUTHORIZED, "id token: nonce does not match this sign-in")
	}
	var claims idClaims
	if err := idt.Claims(&claims); err != nil {
		return nil, bulwark.Errorf(bulwark.EUNAUTHORIZED, "id token claims: %v", err)
	}
	return s.provisionOIDC(r.Context(), idt.Issuer, idt.Subject, claims)
}

// idClaims are the standard claims Bulwark reads.
type idClaims struct {
	Email             string `json:"email"`
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
}

// provisionOIDC returns the user of (issuer, subject), creating it on first
// login and refreshing its display name and email from the claims.
func (s *Service) provisionOIDC(ctx context.Context, issuer, subject string, cl idClaims) (*User, error) {
	u, err := s.store.UserBySubject(ctx, issuer, subject)
	switch {
	case err == nil:
		if u.Disabled {
			return nil, bulwark.Errorf(bulwark.EUNAUTHORIZED, "user %q is disabled", u.Name)
		}
		if u.DisplayName != cl.Name || u.Email != cl.Email {
			u.DisplayName, u.Email = cl.Name, cl.Email
			if err := s.store.UpdateUser(ctx, u); err != nil {
				return nil, err
			}
		}
		return u, nil
	case bulwark.ErrorCode(err) != bulwark.ENOTFOUND:
		return nil, err
	}
	name := firstNonEmpty(cl.PreferredUsername, cl.Email, subject)
	u = &User{ID: bulwark.NewID(), Name: name, DisplayName: cl.Name, Email: cl.Email, Issuer: issuer, Subject: subject}
	err = s.store.CreateUser(ctx, u)
	if bulwark.ErrorCode(err) == bulwark.ECONFLICT { // the name is taken by another user
		u.Name = name + "#" + strings.ReplaceAll(subject, " ", "_")
		err = s.store.CreateUser(ctx, u)
	}
	if err != nil {
		return nil, fmt.Errorf("provision oidc user: %w", err)
	}
	s.log.Info("oidc user provisioned", "user", u.Name, "issuer", issuer)
	return u, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}
