package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw"
	"github.com/bulwarkhq/bulwark/internal/approval"
	"github.com/bulwarkhq/bulwark/internal/notify"
	"github.com/bulwarkhq/bulwark/internal/policy"
)

// Auth is what the server needs from internal/auth: request authentication
// (bearer token or session cookie), scoped role checks and the endpoints it
// serves itself (login, OIDC, tokens, role bindings, me).
type Auth interface {
	Authenticate(next http.Handler) http.Handler
	Allowed(ctx context.Context, p bulwark.Principal, need bulwark.Role, res bulwark.Resource) error
	// AllowedSomewhere checks p holds need on at least one scope.
	AllowedSomewhere(ctx context.Context, p bulwark.Principal, need bulwark.Role) error
	Routes(mux *http.ServeMux)
}

// Server is `bulwark server`. Set the exported fields, then call Open.
type Server struct {
	Inventory bulwark.InventoryService
	Auth      Auth
	// Principal returns the authenticated principal that Auth.Authenticate
	// put in the request's context.
	Principal func(ctx context.Context) (bulwark.Principal, bool)
	Audit     Auditor
	Gate      Gate
	Fleet     Fleet
	// Gateway, when set, serves the join-token endpoints.
	Gateway *agentgw.Gateway
	// RunStore keeps the runs the server executes; nil disables /runs.
	RunStore bulwark.RunStore
	// Approvals keeps approvals of production-class runs.
	Approvals approval.Store
	// ChangeGate receives run start and end notices under their change
	// ticket (may be nil).
	ChangeGate policy.ChangeGate
	// Submissions persists runs waiting for an approval (may be nil).
	Submissions SubmissionStore
	// HaltStore persists halts across restarts (may be nil).
	HaltStore HaltStore
	// Notify receives drill-window notices (may be nil).
	Notify *notify.Notifier

	// Addr is the listen address (default 127.0.0.1:8440); TLS, when set,
	// serves HTTPS.
	Addr string
	TLS  *tls.Config

	Logger *slog.Logger
	Now    func() time.Time

	mux     *http.ServeMux
	halts   *haltBook
	windows *windows
	runs    *runManager
	metrics *metrics
	http    *http.Server
	ln      net.Listener
}

// Handler builds the routes and returns the server's root handler; Open
// calls it. Tests may use it with httptest.
func (s *Server) Handler() http.Handler {
	if s.mux != nil {
		return s.root()
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Audit == nil {
		s.Audit = discardAudit{}
	}
	s.halts = newHaltBook()
	s.windows = newWindows(s.Notify)
	s.runs = newRunManager(s)
	s.metrics = newMetrics()
	s.mux = http.NewServeMux()
	s.routes()
	return s.root()
}

func (s *Server) root() http.Handler { return s.metrics.instrument(s.mux) }

// Open listens on Addr and serves in the background.
func (s *Server) Open() error {
	h := s.Handler()
	addr := s.Addr
	if addr == "" {
		addr = "127.0.0.1:8440"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return bulwark.Errorf(bulwark.EUNAVAILABLE, "listen %s: %v", addr, err)
	}
	if s.TLS != nil {
		ln = tls.NewListener(ln, s.TLS)
	}
	s.ln = ln
	s.http = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn)}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Logger.Error("serve", "err", err)
		}
	}()
	return nil
}

// URL is the base URL the server answers on, once open.
func (s *Server) URL() string {
	scheme := "http"
	if s.TLS != nil {
		scheme = "https"
	}
	return fmt.Sprintf("%s://%s", scheme, s.ln.Addr())
}

// Close stops accepting requests and waits up to ctx for those in flight.
func (s *Server) Close(ctx context.Context) error {
	if s.runs != nil {
		s.runs.close()
	}
	if s.http == nil {
		return nil
	}
	return s.http.Shutdown(ctx)
}

// routes registers every endpoint. API endpoints are authenticated; the
// probe of liveness, the OpenAPI document and /metrics are not.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /api/v1/openapi.json", s.handleOpenAPI)
	s.mux.Handle("GET /metrics", s.metrics.handler())

	api := http.NewServeMux()
	s.inventoryRoutes(api)
	s.haltRoutes(api)
	s.faultRoutes(api)
	s.auditRoutes(api)
	s.joinTokenRoutes(api)
	s.runRoutes(api)
	if s.Auth != nil {
		s.Auth.Routes(s.mux)
		s.mux.Handle("/api/v1/", s.Auth.Authenticate(api))
	} else {
		s.mux.Handle("/api/v1/", api)
	}
}

// handler adapts a handler that returns an error to http.HandlerFunc.
func (s *Server) handler(fn func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			writeError(w, r, s.Logger, err)
		}
	}
}

// principal returns the request's principal, or EUNAUTHORIZED.
func (s *Server) principal(r *http.Request) (bulwark.Principal, error) {
	if s.Principal != nil {
		if p, ok := s.Principal(r.Context()); ok {
			return p, nil
		}
	}
	return bulwark.Principal{}, bulwark.Errorf(bulwark.EUNAUTHORIZED, "sign in or send a bearer token")
}

// allow checks that the request's principal holds need over res.
func (s *Server) allow(r *http.Request, need bulwark.Role, res bulwark.Resource) (bulwark.Principal, error) {
	p, err := s.principal(r)
	if err != nil {
		return p, err
	}
	if s.Auth == nil {
		return p, bulwark.Errorf(bulwark.EFORBIDDEN, "no authoriser configured")
	}
	return p, s.Auth.Allowed(r.Context(), p, need, res)
}

// checker answers s.allow for many resources in one request, asking the
// authoriser once per distinct resource (a list of 8,000 agents spans a
// few systems and environments).
func (s *Server) checker(r *http.Request, need bulwark.Role) func(bulwark.Resource) error {
	memo := map[bulwark.Resource]error{}
	return func(res bulwark.Resource) error {
		err, ok := memo[res]
		if !ok {
			_, err = s.allow(r, need, res)
			memo[res] = err
		}
		return err
	}
}

// visible keeps the items whose resource the caller holds need on; an
// error other than EFORBIDDEN (the store, no credential) is returned.
func visible[T any](s *Server, r *http.Request, need bulwark.Role, items []T, res func(T) bulwark.Resource) ([]T, error) {
	check := s.checker(r, need)
	out := []T{}
	for _, it := range items {
		switch err := check(res(it)); {
		case err == nil:
			out = append(out, it)
		case bulwark.ErrorCode(err) != bulwark.EFORBIDDEN:
			return nil, err
		}
	}
	return out, nil
}
