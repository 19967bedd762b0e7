package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/auth"
)

// TestAuthenticate401 covers every way a credential is not good enough.
func TestAuthenticate401(t *testing.T) {
	e := newEnv(t)
	u, good := e.user("wang", bind(bulwark.RoleAdmin, bulwark.ScopeGlobal, ""))
	expiring, err := e.svc.IssueUserToken(context.Background(), u.ID, "short", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := e.svc.IssueUserToken(context.Background(), u.ID, "gone", 0)
	if err != nil {
		t.Fatal(err)
	}
	if code := e.do("DELETE", "/api/v1/tokens/"+revoked.Token.ID, good, nil, nil); code != http.StatusNoContent {
		t.Fatalf("revoke: %d", code)
	}
	e.clock.Add(time.Hour) // expiring is now exactly at its expiry

	for _, tc := range []struct{ name, header, want string }{
		{"none", "", "no credential"},
		{"unknown", "Bearer " + auth.NewToken(), "token unknown"},
		{"malformed", "Basic d2FuZzp4", "Bearer"},
		{"expired", "Bearer " + expiring.Secret, "expired"},
		{"revoked", "Bearer " + revoked.Secret, "revoked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/me", "/api/v1/tokens", "/api/v1/rolebindings", "/api/v1/test/viewer"} {
				req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var ae apiError
				decode(t, resp, &ae)
				if resp.StatusCode != 401 || ae.Error.Code != "unauthorized" || !strings.Contains(ae.Error.Message, tc.want) {
					t.Fatalf("%s: %d %+v, want 401 unauthorized mentioning %q", path, resp.StatusCode, ae, tc.want)
				}
				if resp.Header.Get("WWW-Authenticate") == "" {
					t.Fatalf("%s: no WWW-Authenticate", path)
				}
			}
		})
	}
	if code := e.do("GET", "/api/v1/me", good, nil, nil); code != 200 {
		t.Fatalf("good token: %d", code)
	}
}

// TestRequire403 binds operator, and each other role, on each scope kind
// and calls an endpoint that needs operator inside and outside the scope.
func TestRequire403(t *testing.T) {
	e := newEnv(t)
	inside := "?system=trade&env=simulation"
	outside := "?system=settle&env=production"
	scopes := map[bulwark.ScopeKind]string{bulwark.ScopeGlobal: "", bulwark.ScopeSystem: "trade",
		bulwark.ScopeTeam: "equities", bulwark.ScopeEnvironment: "simulation"}
	n := 0
	for kind, name := range scopes {
		for _, held := range allRoles {
			n++
			_, tok := e.user(fmt.Sprintf("u%d", n), bind(held, kind, name))
			for _, need := range allRoles {
				want := contains(roleMatrix[held], need)
				wantOut := want && kind == bulwark.ScopeGlobal
				for q, w := range map[string]bool{inside: want, outside: wantOut} {
					var ae apiError
					code := e.do("GET", "/api/v1/test/"+string(need)+q, tok, nil, &ae)
					switch {
					case w && code != 200:
						t.Errorf("%s@%s needs %s %s: %d %+v, want 200", held, kind, need, q, code, ae)
					case !w && (code != 403 || ae.Error.Code != "forbidden" || !strings.Contains(ae.Error.Message, string(need))):
						t.Errorf("%s@%s needs %s %s: %d %+v, want 403 naming the role", held, kind, need, q, code, ae)
					}
				}
			}
		}
	}
}

// TestAccountCannotExceedOwner: an operator on one system can make a
// viewer or operator account there, but not an admin account, not one on
// another system and not a global one; and the account loses what its
// owner loses.
func TestAccountCannotExceedOwner(t *testing.T) {
	e := newEnv(t)
	owner, tok := e.user("zhao", bind(bulwark.RoleOperator, bulwark.ScopeSystem, "trade"))
	sys := func(n string) map[string]string { return map[string]string{"kind": "system", "name": n} }
	for _, tc := range []struct {
		role  string
		scope any
		want  int
	}{
		{"viewer", sys("trade"), 201},
		{"admin", sys("trade"), 403},
		{"operator", sys("settle"), 403},
		{"viewer", nil, 403}, // global by default
		{"approver", sys("trade"), 403},
		{"root", sys("trade"), 400},
		{"viewer", map[string]string{"kind": "galaxy"}, 400},
	} {
		body := map[string]any{"name": "ci-" + tc.role, "role": tc.role}
		if tc.scope != nil {
			body["scope"] = tc.scope
		}
		var ae apiError
		if code := e.do("POST", "/api/v1/tokens", tok, body, &ae); code != tc.want {
			t.Errorf("%s on %v: %d %+v, want %d", tc.role, tc.scope, code, ae, tc.want)
		}
	}
	var created struct {
		Token   string        `json:"token"`
		Role    string        `json:"role"`
		Account *auth.Account `json:"account"`
	}
	body := map[string]any{"name": "ci-op", "role": "operator", "scope": sys("trade"), "expiresIn": "24h"}
	if code := e.do("POST", "/api/v1/tokens", tok, body, &created); code != 201 {
		t.Fatalf("create operator account: %d", code)
	}
	if !strings.HasPrefix(created.Token, "bwk_") || len(created.Token) != 4+43 || created.Account.OwnerID != owner.ID {
		t.Fatalf("created %+v", created)
	}
	if code := e.do("GET", "/api/v1/test/operator?system=trade", created.Token, nil, nil); code != 200 {
		t.Fatalf("account as operator: %d", code)
	}
	if code := e.do("GET", "/api/v1/test/operator?system=settle", created.Token, nil, nil); code != 403 {
		t.Fatalf("account outside scope: %d", code)
	}
	// An account cannot mint accounts.
	if code := e.do("POST", "/api/v1/tokens", created.Token, map[string]any{"name": "x", "role": "viewer",
		"scope": sys("trade")}, nil); code != 403 {
		t.Fatalf("account creating an account: %d", code)
	}
	// The owner is demoted to viewer: the account is capped at once.
	bs, _ := e.store.RoleBindings(context.Background(), owner.ID)
	if err := e.store.DeleteRoleBinding(context.Background(), bs[0].ID); err != nil {
		t.Fatal(err)
	}
	b := bind(bulwark.RoleViewer, bulwark.ScopeSystem, "trade")
	b.ID, b.Subject = bulwark.NewID(), owner.ID
	if err := e.store.CreateRoleBinding(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	var ae apiError
	if code := e.do("GET", "/api/v1/test/operator?system=trade", created.Token, nil, &ae); code != 403 ||
		!strings.Contains(ae.Error.Message, "owner") {
		t.Fatalf("account after owner demoted: %d %+v", code, ae)
	}
	if code := e.do("GET", "/api/v1/test/viewer?system=trade", created.Token, nil, nil); code != 200 {
		t.Fatalf("account as viewer after owner demoted: %d", code)
	}
}

// TestTokensAPI: personal tokens inherit the user's bindings; listing
// shows one's own tokens without secrets; revoking another's needs admin.
func TestTokensAPI(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("qian", bind(bulwark.RoleOperator, bulwark.ScopeTeam, "equities"))
	_, other := e.user("sun", bind(bulwark.RoleViewer, bulwark.ScopeGlobal, ""))
	var personal struct {
		Token string `json:"token"`
		ID    string `json:"id"`
	}
	if code := e.do("POST", "/api/v1/tokens", tok, map[string]any{"name": "laptop"}, &personal); code != 201 {
		t.Fatalf("personal token: %d", code)
	}
	var me struct {
		Principal bulwark.Principal `json:"principal"`
	}
	if code := e.do("GET", "/api/v1/me", personal.Token, nil, &me); code != 200 || me.Principal.Name != "qian" ||
		me.Principal.Kind != bulwark.PrincipalUser || me.Principal.TokenID != personal.ID {
		t.Fatalf("me with personal token: %d %+v", code, me)
	}
	if code := e.do("GET", "/api/v1/test/operator?system=trade", personal.Token, nil, nil); code != 200 {
		t.Fatalf("personal token inherits team operator: %d", code)
	}
	var list struct {
		Tokens []map[string]any `json:"tokens"`
	}
	if code := e.do("GET", "/api/v1/tokens", tok, nil, &list); code != 200 || len(list.Tokens) != 2 {
		t.Fatalf("list: %d %v", code, list)
	}
	for _, tk := range list.Tokens {
		for k := range tk {
			if k == "hash" || k == "token" || k == "Hash" {
				t.Fatalf("listing leaks %s: %v", k, tk)
			}
		}
	}
	if code := e.do("DELETE", "/api/v1/tokens/"+personal.ID, other, nil, nil); code != 403 {
		t.Fatalf("revoke another's token: %d", code)
	}
	if code := e.do("DELETE", "/api/v1/tokens/"+personal.ID, adminToken, nil, nil); code != 204 {
		t.Fatalf("global admin revokes: %d", code)
	}
	if code := e.do("GET", "/api/v1/me", personal.Token, nil, nil); code != 401 {
		t.Fatalf("revoked personal token: %d", code)
	}
	for _, body := range []map[string]any{
		{"name": "x", "expiresIn": "9000h"},
		{"name": "x", "expiresIn": "soon"},
		{"name": "x", "bogus": 1},
	} {
		if code := e.do("POST", "/api/v1/tokens", tok, body, nil); code != 400 {
			t.Errorf("%v: %d, want 400", body, code)
		}
	}
}

// TestRoleBindingsAPI: admins bind and unbind within their scope only, and
// the last global admin stays.
func TestRoleBindingsAPI(t *testing.T) {
	e := newEnv(t)
	_, teamAdmin := e.user("zhou", bind(bulwark.RoleAdmin, bulwark.ScopeTeam, "equities"))
	target, targetTok := e.user("wu")
	sys := func(n string) bulwark.Scope { return bulwark.Scope{Kind: bulwark.ScopeSystem, Name: n} }
	var b bulwark.RoleBinding
	req := map[string]any{"subject": "wu", "role": "operator", "scope": sys("trade")}
	if code := e.do("POST", "/api/v1/rolebindings", teamAdmin, req, &b); code != 201 || b.Subject != target.ID {
		t.Fatalf("team admin binds in team: %d %+v", code, b)
	}
	if code := e.do("GET", "/api/v1/test/operator?system=trade", targetTok, nil, nil); code != 200 {
		t.Fatalf("new binding not effective: %d", code)
	}
	for _, tc := range []struct {
		body map[string]any
		want int
	}{
		{map[string]any{"subject": "wu", "role": "operator", "scope": sys("settle")}, 403},
		{map[string]any{"subject": "wu", "role": "admin", "scope": bulwark.Scope{Kind: bulwark.ScopeGlobal}}, 403},
		{map[string]any{"subject": "nobody", "role": "viewer", "scope": sys("trade")}, 400},
		{map[string]any{"subject": "wu", "role": "operator", "scope": sys("trade")}, 409},
		{map[string]any{"subject": "wu", "role": "owner", "scope": sys("trade")}, 400},
	} {
		if code := e.do("POST", "/api/v1/rolebindings", teamAdmin, tc.body, nil); code != tc.want {
			t.Errorf("%v: %d, want %d", tc.body, code, tc.want)
		}
	}
	if code := e.do("POST", "/api/v1/rolebindings", targetTok, req, nil); code != 403 {
		t.Fatalf("operator binds: %d", code)
	}
	var list struct {
		Bindings []bulwark.RoleBinding `json:"bindings"`
	}
	if code := e.do("GET", "/api/v1/rolebindings", teamAdmin, nil, &list); code != 200 || len(list.Bindings) != 2 {
		t.Fatalf("team admin lists: %d %+v (want its own and wu's, not the global admin's)", code, list)
	}
	if code := e.do("GET", "/api/v1/rolebindings", targetTok, nil, nil); code != 403 {
		t.Fatalf("non-admin lists: %d", code)
	}
	if code := e.do("DELETE", "/api/v1/rolebindings/"+b.ID, teamAdmin, nil, nil); code != 204 {
		t.Fatalf("unbind: %d", code)
	}
	if code := e.do("GET", "/api/v1/test/operator?system=trade", targetTok, nil, nil); code != 403 {
		t.Fatalf("removed binding still effective: %d", code)
	}
	var all struct {
		Bindings []bulwark.RoleBinding `json:"bindings"`
	}
	e.do("GET", "/api/v1/rolebindings?subject=admin", adminToken, nil, &all)
	if len(all.Bindings) != 1 {
		t.Fatalf("admin bindings: %+v", all)
	}
	if code := e.do("DELETE", "/api/v1/rolebindings/"+all.Bindings[0].ID, adminToken, nil, nil); code != 409 {
		t.Fatalf("delete last global admin: %d, want 409", code)
	}
}

// TestBootstrapIdempotent: a second start with the same token changes
// nothing; a revoked bootstrap token is not brought back.
func TestBootstrapIdempotent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.svc.Bootstrap(ctx, adminToken); err != nil {
		t.Fatal(err)
	}
	users, _ := e.store.Users(ctx)
	bs, _ := e.store.RoleBindings(ctx, "")
	admin, _ := e.store.UserByName(ctx, auth.BootstrapUser)
	ts, _ := e.store.TokensByOwner(ctx, admin.ID)
	if len(users) != 1 || len(bs) != 1 || len(ts) != 1 {
		t.Fatalf("after two bootstraps: %d users, %d bindings, %d tokens; want 1 each", len(users), len(bs), len(ts))
	}
	var me struct {
		Bindings []bulwark.RoleBinding `json:"bindings"`
	}
	if code := e.do("GET", "/api/v1/me", adminToken, nil, &me); code != 200 || len(me.Bindings) != 1 ||
		me.Bindings[0].Role != bulwark.RoleAdmin || me.Bindings[0].Scope.Kind != bulwark.ScopeGlobal {
		t.Fatalf("bootstrap admin: %d %+v", code, me)
	}
	if err := e.svc.Bootstrap(ctx, "short"); bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Fatalf("short token: %v", err)
	}
	if err := e.store.RevokeToken(ctx, ts[0].ID, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Bootstrap(ctx, adminToken); bulwark.ErrorCode(err) != bulwark.ECONFLICT {
		t.Fatalf("revoked bootstrap token: %v, want conflict", err)
	}
}

func decode(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := jsonDecode(resp, v); err != nil {
		t.Fatal(err)
	}
}
