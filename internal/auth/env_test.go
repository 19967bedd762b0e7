package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/auth"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

// clock is a settable clock for expiry and TOTP steps.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a Service on a real SQLite file behind a real HTTP server, with a
// protected test endpoint GET /api/v1/test/{role}?system=&team=&env= that
// requires {role} on that resource.
type env struct {
	t      testing.TB
	store  *sqlite.AuthStore
	svc    *auth.Service
	srv    *httptest.Server
	clock  *clock
	audits []auth.AuditEvent
	mu     sync.Mutex
}

const adminToken = "bwk_bootstrap-admin-token-for-tests-0123456789"

func newEnv(t testing.TB, tweak ...func(*auth.Config)) *env {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "bulwark.db"))
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	e := &env{t: t, store: sqlite.NewAuthStore(db), clock: &clock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}}
	cfg := auth.Config{
		Store: e.store, Systems: testSystems, Now: e.clock.Now,
		Argon2:    auth.Argon2Params{Time: 1, Memory: 1024, Threads: 1},
		SecretKey: bytes.Repeat([]byte{7}, 32),
		Audit: func(_ context.Context, a auth.AuditEvent) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.audits = append(e.audits, a)
		},
	}
	for _, f := range tweak {
		f(&cfg)
	}
	svc, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	if err := svc.Bootstrap(context.Background(), adminToken); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	svc.Routes(mux)
	protected := func(r *http.Request) (bulwark.Resource, error) {
		q := r.URL.Query()
		return bulwark.Resource{System: q.Get("system"), Team: q.Get("team"), Environment: q.Get("env")}, nil
	}
	for _, role := range allRoles {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, _ := auth.FromContext(r.Context())
			_ = json.NewEncoder(w).Encode(p)
		})
		mux.Handle("GET /api/v1/test/"+string(role), svc.Authenticate(svc.Require(role, protected)(h)))
	}
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// do sends a JSON request with the bearer token (none when empty) and
// decodes a JSON answer into out when out is not nil.
func (e *env) do(method, path, token string, body, out any) int {
	e.t.Helper()
	return doWith(e.t, http.DefaultClient, method, e.srv.URL+path, token, body, out)
}

func doWith(t testing.TB, c *http.Client, method, url, token string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, url, b, err)
		}
	}
	return resp.StatusCode
}

// apiError is the JSON error shape.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// user creates a user with the bindings and returns it and a token of it.
func (e *env) user(name string, bindings ...bulwark.RoleBinding) (*auth.User, string) {
	e.t.Helper()
	ctx := context.Background()
	u := &auth.User{ID: bulwark.NewID(), Name: name}
	if err := e.store.CreateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	for _, b := range bindings {
		b.ID, b.Subject = bulwark.NewID(), u.ID
		if err := e.store.CreateRoleBinding(ctx, &b); err != nil {
			e.t.Fatal(err)
		}
	}
	is, err := e.svc.IssueUserToken(ctx, u.ID, name, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return u, is.Secret
}

func bind(role bulwark.Role, kind bulwark.ScopeKind, name string) bulwark.RoleBinding {
	return bulwark.RoleBinding{Role: role, Scope: bulwark.Scope{Kind: kind, Name: name}}
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
