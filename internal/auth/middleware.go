package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/bulwarkhq/bulwark"
)

type ctxKey struct{}

// NewContext returns ctx carrying the principal.
func NewContext(ctx context.Context, p bulwark.Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal Authenticate put in ctx, if any.
func FromContext(ctx context.Context) (bulwark.Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(bulwark.Principal)
	return p, ok && p.ID != ""
}

// Authenticate resolves the request's credential, an "Authorization: Bearer"
// token or else the session cookie, puts the principal in the context and
// calls next. A missing, unknown, expired or revoked credential is answered
// 401 with the JSON error shape of DESIGN §5.
func (s *Service) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.Principal(r)
		if err != nil {
			writeError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), p)))
	})
}

// Principal resolves the request's credential without a context lookup.
// While the store is unavailable, a credential seen within OutageGrace
// resolves to its last known principal.
func (s *Service) Principal(r *http.Request) (bulwark.Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return bulwark.Principal{}, bulwark.Errorf(bulwark.EUNAUTHORIZED, "Authorization header: want \"Bearer <token>\"")
		}
		tok = strings.TrimSpace(tok)
		return s.known.principal("t:"+HashSecret(tok), func() (bulwark.Principal, error) { return s.tokenPrincipal(r.Context(), tok) })
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		return s.known.principal("s:"+HashSecret(c.Value), func() (bulwark.Principal, error) { return s.sessionPrincipal(r.Context(), c.Value) })
	}
	return bulwark.Principal{}, bulwark.Errorf(bulwark.EUNAUTHORIZED,
		"no credential: send \"Authorization: Bearer <token>\" or sign in")
}

// ResourceFunc says which resource a request touches, for Require. An error
// is answered as it is (EINVALID → 400, ENOTFOUND → 404, …).
type ResourceFunc func(r *http.Request) (bulwark.Resource, error)

// Global is a ResourceFunc for requests on the whole installation: only
// global bindings cover it.
func Global(*http.Request) (bulwark.Resource, error) { return bulwark.Resource{}, nil }

// Require returns middleware that lets a request through only when its
// principal (put there by Authenticate) holds role on the resource res
// returns: 401 without a principal, 403 outside the principal's scope.
func (s *Service) Require(role bulwark.Role, res ResourceFunc) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := FromContext(r.Context())
			if !ok {
				writeError(w, bulwark.Errorf(bulwark.EUNAUTHORIZED, "no credential"))
				return
			}
			rs, err := res(r)
			if err == nil {
				err = s.authz.Allowed(r.Context(), p, role, rs)
			}
			if err != nil {
				writeError(w, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// statusOf maps an error code to an HTTP status: the shared mapping, plus
// this package's own rate-limit code.
func statusOf(code string) int {
	if code == codeTooMany {
		return http.StatusTooManyRequests
	}
	return bulwark.HTTPStatus(code)
}

// codeTooMany is used inside this package only, for the login limiter: the
// shared codes have no rate-limit class and the server never sees it.
const codeTooMany = "too_many_requests"

// writeError answers err as {"error":{"code","message"}}; 401 also carries
// WWW-Authenticate.
func writeError(w http.ResponseWriter, err error) {
	code := bulwark.ErrorCode(err)
	status := statusOf(code)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="bulwark"`)
	}
	var e *bulwark.Error
	if !errors.As(err, &e) {
		code = bulwark.EINTERNAL
	}
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": bulwark.ErrorMessage(err)}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
