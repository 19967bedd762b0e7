package auth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/auth"
)

// BenchmarkAuthenticateToken measures Authenticate plus Require(operator)
// for a bearer token on a team-scoped binding, on a real SQLite file,
// without the network.
func BenchmarkAuthenticateToken(b *testing.B) {
	e := newEnv(b)
	_, tok := e.user("bench", bind(bulwark.RoleOperator, bulwark.ScopeTeam, "equities"))
	res := func(*http.Request) (bulwark.Resource, error) { return bulwark.Resource{System: "trade"}, nil }
	h := e.svc.Authenticate(e.svc.Require(bulwark.RoleOperator, res)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	req := httptest.NewRequest("GET", "/x", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkArgon2Default is the cost of one password check at the
// default parameters (64 MiB, 3 passes, 2 lanes).
func BenchmarkArgon2Default(b *testing.B) {
	h := auth.DefaultArgon2().Hash("correct horse battery")
	for b.Loop() {
		if ok, err := auth.CheckPassword(h, "correct horse battery"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
