package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// Config configures a Service. Store is required; the rest has defaults.
type Config struct {
	Store   Store
	Systems Systems // the inventory, for team scopes; may be nil

	// SecretKey, 32 bytes, encrypts TOTP secrets at rest (AES-256-GCM).
	// Without it they are stored in the clear, marked "plain:".
	SecretKey []byte
	// TOTPIssuer names Bulwark in authenticator apps (default "Bulwark").
	TOTPIssuer string
	// Argon2 sets the cost of new password hashes (default DefaultArgon2).
	Argon2 Argon2Params

	SessionTTL time.Duration // default 12h
	// OutageGrace is how long credentials and role bindings seen last keep
	// working while the store is unavailable (default 1h), so that halt
	// works with the database down.
	OutageGrace     time.Duration
	DefaultTokenTTL time.Duration // default 90 days
	MaxTokenTTL     time.Duration // default 366 days
	LoginFailures   int           // failures per user name per LoginWindow before 429; default 5
	LoginWindow     time.Duration // default 15m

	// SecureCookies forces the Secure attribute; it is set anyway on a
	// request that came over TLS.
	SecureCookies bool

	// Audit, when set, receives every sign-in and every change made through
	// the endpoints of Routes, allowed or refused.
	Audit func(ctx context.Context, e AuditEvent)

	Logger *slog.Logger
	Now    func() time.Time
}

// Service authenticates requests and serves the auth endpoints.
type Service struct {
	cfg     Config
	store   Store
	authz   *Authorizer
	known   *lastKnown
	sealer  *sealer
	limiter *limiter
	oidc    *oidcClient
	log     *slog.Logger
}

// New returns a Service for cfg, filling in defaults.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("auth: Store is required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.SessionTTL, 12*time.Hour)
	def(&cfg.DefaultTokenTTL, 90*24*time.Hour)
	def(&cfg.MaxTokenTTL, 366*24*time.Hour)
	def(&cfg.LoginWindow, 15*time.Minute)
	if cfg.LoginFailures <= 0 {
		cfg.LoginFailures = 5
	}
	if cfg.TOTPIssuer == "" {
		cfg.TOTPIssuer = "Bulwark"
	}
	if cfg.Argon2 == (Argon2Params{}) {
		cfg.Argon2 = DefaultArgon2()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	sl, err := newSealer(cfg.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	def(&cfg.OutageGrace, time.Hour)
	lk := newLastKnown(cfg.OutageGrace, cfg.Now, cfg.Logger)
	return &Service{
		cfg:     cfg,
		store:   cfg.Store,
		known:   lk,
		authz:   &Authorizer{Bindings: lastKnownBindings{b: cfg.Store, lk: lk}, Systems: cfg.Systems},
		sealer:  sl,
		limiter: newLimiter(cfg.LoginFailures, cfg.LoginWindow),
		log:     cfg.Logger,
	}, nil
}

// Authorizer returns the service's authorizer (Allowed, HasRole).
func (s *Service) Authorizer() *Authorizer { return s.authz }

// Allowed is Authorizer().Allowed.
func (s *Service) Allowed(ctx context.Context, p bulwark.Principal, need bulwark.Role, res bulwark.Resource) error {
	return s.authz.Allowed(ctx, p, need, res)
}

// HasRole is Authorizer().HasRole; the approvals code calls it.
func (s *Service) HasRole(ctx context.Context, principalID string, role bulwark.Role, res bulwark.Resource) (bool, error) {
	return s.authz.HasRole(ctx, principalID, role, res)
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }
