package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw"
	"github.com/bulwarkhq/bulwark/internal/approval"
	"github.com/bulwarkhq/bulwark/internal/audit"
	"github.com/bulwarkhq/bulwark/internal/auth"
	"github.com/bulwarkhq/bulwark/internal/notify"
	"github.com/bulwarkhq/bulwark/internal/policy"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

// AppConfig is `bulwark server`'s configuration.
type AppConfig struct {
	// DataDir holds the database (by default), the audit key, checkpoints
	// and spool, and the agents' CA.
	DataDir string
	// DB is "sqlite:PATH" (default sqlite:<DataDir>/bulwark.db).
	DB string
	// Listen is the API's address.
	Listen           string
	TLSCert, TLSKey  string
	AdminToken       string // BULWARK_ADMIN_TOKEN
	AuditKeyPath     string // default <DataDir>/audit-key.pem, created 0600 at first start
	AuditSyslog      string // "unixgram:/dev/log" style; empty for none
	AuditCheckpoints string // default <DataDir>/audit-checkpoints.jsonl
	Gate             GateConfig
	// OIDC, when Issuer is set, enables single sign-on; the client secret
	// is read from OIDCClientSecretFile.
	OIDC                 auth.OIDCConfig
	OIDCClientSecretFile string
	// AgentListen is the agent gateway's gRPC address (mTLS); empty runs
	// no gateway. AgentServerNames go into its certificate besides the
	// listen host; AgentToken (BULWARK_AGENT_TOKEN) bootstraps one join
	// token into simulation; AgentLease is the lease sent to agents.
	AgentListen      string
	AgentServerNames []string
	AgentToken       string
	AgentLease       time.Duration
	// NotifyWebhooks receive drill-window notices (mark, don't mute).
	NotifyWebhooks []string
	Logger         *slog.Logger
}

// App is an assembled server: its store, services and HTTP server.
type App struct {
	Config    AppConfig
	DB        *sqlite.DB
	Inventory *sqlite.InventoryService
	Auth      *auth.Service
	Audit     *audit.Log
	Server    *Server
	Gateway   *agentgw.Gateway
	// Gate is the policy gate in force (policies and calendars loaded).
	Gate *policy.Gate
	// AgentAddr is where the gateway listens, once started.
	AgentAddr string
	// CAPin is the agents' CA fingerprint (sha256:HEX), for --ca-pin.
	CAPin string

	closers   []func() error
	stopAudit context.CancelFunc
}

// OpenApp opens the store, runs migrations, bootstraps the admin token and
// assembles the services. Call (*App).Start to listen.
func OpenApp(ctx context.Context, cfg AppConfig) (app *App, err error) {
	if cfg.DataDir == "" {
		return nil, bulwark.Errorf(bulwark.EINVALID, "--data-dir: required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path, err := sqlitePath(cfg.DB, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	opened := &App{Config: cfg}
	app = opened
	defer func() {
		if err != nil {
			opened.Close(context.Background()) // app itself is nil by now
		}
	}()
	app.DB = sqlite.NewDB(path)
	if err := app.DB.Open(ctx); err != nil {
		return nil, err
	}
	app.closers = append(app.closers, app.DB.Close)
	app.Inventory = sqlite.NewInventoryService(app.DB)
	if app.Audit, err = openAudit(app, cfg); err != nil {
		return nil, err
	}
	secretKey, err := loadOrCreateKey(filepath.Join(cfg.DataDir, "totp-key"))
	if err != nil {
		return nil, err
	}
	if app.Auth, err = auth.New(auth.Config{Store: sqlite.NewAuthStore(app.DB), Systems: inventorySystems{app.Inventory},
		Logger: cfg.Logger, Audit: app.authAudit, SecretKey: secretKey, SecureCookies: cfg.TLSCert != ""}); err != nil {
		return nil, err
	}
	if cfg.OIDC.Issuer != "" {
		if cfg.OIDCClientSecretFile != "" {
			b, err := os.ReadFile(cfg.OIDCClientSecretFile)
			if err != nil {
				return nil, bulwark.Errorf(bulwark.EINVALID, "--oidc-client-secret-file: %v", err)
			}
			cfg.OIDC.ClientSecret = strings.TrimSpace(string(b))
		}
		if err := app.Auth.EnableOIDC(ctx, cfg.OIDC); err != nil {
			return nil, err
		}
	}
	if err := ensureSimulation(ctx, app.Inventory); err != nil {
		return nil, err
	}
	if cfg.AdminToken != "" {
		if err := app.Auth.Bootstrap(ctx, cfg.AdminToken); err != nil {
			return nil, err
		}
	}
	var hooks []notify.Webhook
	for _, u := range cfg.NotifyWebhooks {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return nil, bulwark.Errorf(bulwark.EINVALID, "--notify-webhook: %q is not an http(s) URL", u)
		}
		hooks = append(hooks, notify.Webhook{URL: u})
	}
	notifier := notify.New(hooks, notify.Options{Logger: cfg.Logger})
	app.closers = append(app.closers, func() error { notifier.Close(); return nil })
	approvals := sqlite.NewApprovalStore(app.DB)
	gate, err := buildGate(cfg.Gate, &approval.Checker{Store: approvals, Rules: approval.Rules{Roles: app.Auth}})
	if err != nil {
		return nil, err
	}
	app.Gate = gate
	if err := gate.Check(); err != nil {
		// The gate fails closed anyway; say why now, not at the first denial.
		cfg.Logger.Warn("policy gate: production-class work will be refused until this is fixed", "problem", err.Error())
	}
	app.Server = &Server{Inventory: app.Inventory, Auth: app.Auth, Principal: auth.FromContext, Audit: app.Audit,
		Addr: cfg.Listen, Logger: cfg.Logger, Notify: notifier, Gate: PolicyGate{Gate: gate},
		RunStore: sqlite.NewRunStore(app.DB), Approvals: approvals, HaltStore: sqlite.NewHaltStore(app.DB), ChangeGate: gate.ChangeGate,
		Submissions: sqlite.NewSubmissionStore(app.DB)}
	if err := app.Server.LoadState(ctx); err != nil {
		return nil, fmt.Errorf("load halts and waiting runs: %w", err)
	}
	if cfg.AgentListen != "" {
		g, lis, err := openGateway(ctx, app, cfg)
		if err != nil {
			return nil, err
		}
		app.Gateway, app.AgentAddr = g, lis.Addr().String()
		app.closers = append(app.closers, func() error { return closeGateway(g) })
		app.Server.Gateway, app.Server.Fleet = g, GatewayFleet{G: g}
	}
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, bulwark.Errorf(bulwark.EINVALID, "--tls-cert/--tls-key: %v", err)
		}
		app.Server.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return app, nil
}

// sqlitePath reads --db; only the embedded store exists so far.
func sqlitePath(db, dataDir string) (string, error) {
	switch {
	case db == "":
		return filepath.Join(dataDir, "bulwark.db"), nil
	case strings.HasPrefix(db, "sqlite:"):
		return strings.TrimPrefix(db, "sqlite:"), nil
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		return "", bulwark.Errorf(bulwark.EINVALID, "--db: the PostgreSQL store is not built yet; use sqlite:PATH")
	}
	return "", bulwark.Errorf(bulwark.EINVALID, "--db: %q is not sqlite:PATH", db)
}

// openAudit loads (or creates, at first start) the checkpoint key outside
// the database and opens the log with its file (and syslog) sinks.
func openAudit(app *App, cfg AppConfig) (*audit.Log, error) {
	keyPath := cfg.AuditKeyPath
	if keyPath == "" {
		keyPath = filepath.Join(cfg.DataDir, "audit-key.pem")
	}
	if _, err := os.Stat(keyPath); errors.Is(err, os.ErrNotExist) && cfg.AuditKeyPath == "" {
		if _, err := audit.GenerateKey(keyPath); err != nil {
			return nil, fmt.Errorf("create audit key: %w", err)
		}
	}
	key, err := audit.LoadPrivateKey(keyPath)
	if err != nil {
		return nil, bulwark.Errorf(bulwark.EINVALID, "--audit-key: %v", err)
	}
	cpFile := cfg.AuditCheckpoints
	if cpFile == "" {
		cpFile = filepath.Join(cfg.DataDir, "audit-checkpoints.jsonl")
	}
	// The export file exists from the first start, so that verifying a log
	// with no checkpoint yet reads an empty file rather than failing.
	f, err := os.OpenFile(cpFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit checkpoints: %w", err)
	}
	f.Close()
	sinks := []audit.Sink{audit.NewFileSink(cpFile)}
	if cfg.AuditSyslog != "" {
		network, addr, ok := strings.Cut(cfg.AuditSyslog, ":")
		if !ok {
			return nil, bulwark.Errorf(bulwark.EINVALID, "--audit-syslog: %q is not NETWORK:ADDRESS (e.g. unixgram:/dev/log)", cfg.AuditSyslog)
		}
		s, err := audit.NewSyslogSink(network, addr)
		if err != nil {
			return nil, bulwark.Errorf(bulwark.EINVALID, "--audit-syslog: %v", err)
		}
		app.closers = append(app.closers, s.Close)
		sinks = append(sinks, s)
	}
	return audit.New(sqlite.NewAuditStore(app.DB), audit.Options{Key: key, Sinks: sinks, CheckpointFile: cpFile,
		SpoolPath: filepath.Join(cfg.DataDir, "audit-spool.jsonl"), Logger: cfg.Logger}), nil
}

// authAudit records the auth service's own events (sign-ins, tokens, role
// bindings) in the audit log.
func (app *App) authAudit(ctx context.Context, e auth.AuditEvent) {
	status, reason := "ok", ""
	if e.Result != "ok" {
		status, reason = "error", e.Result+": "+e.Message
		if e.Result == bulwark.EFORBIDDEN || e.Result == bulwark.EUNAUTHORIZED {
			status = "denied"
		}
	}
	p := e.Principal
	if p.ID == "" {
		p = bulwark.Principal{ID: "anonymous", Kind: bulwark.PrincipalSystem}
	}
	entry := audit.Entry{Actor: actorOf(p), Action: "auth." + actionName(e.Action), Resource: e.Action,
		RequestDigest: audit.DigestBytes(nil), Result: audit.Result{Status: status, Reason: reason}}
	if _, err := app.Audit.Record(context.WithoutCancel(ctx), entry); err != nil {
		app.Config.Logger.Error("audit record failed", "action", entry.Action, "err", err)
	}
}

// actionName turns "POST /api/v1/tokens" into "post-tokens" (an audit action
// segment).
func actionName(a string) string {
	a = strings.ToLower(a)
	a = strings.ReplaceAll(a, "/api/v1/", "")
	a = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, a)
	a = strings.Trim(a, "-")
	if a == "" || a[0] < 'a' || a[0] > 'z' {
		a = "x" + a
	}
	return a
}

// Start listens and serves the API, and finishes in the background the
// runs a killed server process left behind.
func (app *App) Start() error {
	if err := app.Server.Open(); err != nil {
		return err
	}
	// The audit log's own loop: checkpoints after a quiet interval, and the
	// spool appended once the database is back.
	ctx, cancel := context.WithCancel(context.Background())
	app.stopAudit = cancel
	go app.Audit.Run(ctx)
	if host, err := os.Hostname(); err == nil {
		go app.Server.runs.cleanup(context.Background(), host)
	}
	return nil
}

// Close stops the server and closes the store, flushing the audit spool.
func (app *App) Close(ctx context.Context) error {
	var errs []error
	if app.Server != nil {
		errs = append(errs, app.Server.Close(ctx))
	}
	if app.stopAudit != nil {
		app.stopAudit()
	}
	if app.Audit != nil {
		// Close flushes the spool and writes a checkpoint at the last entry,
		// so that deleting the newest entries is detected.
		if err := app.Audit.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	for i := len(app.closers) - 1; i >= 0; i-- {
		errs = append(errs, app.closers[i]())
	}
	app.closers = nil
	return errors.Join(errs...)
}

// inventorySystems adapts the inventory to auth.Systems.
type inventorySystems struct{ inv bulwark.InventoryService }

func (s inventorySystems) System(ctx context.Context, name string) (bulwark.System, error) {
	return s.inv.FindSystem(ctx, name)
}

// SimulationEnv is the non-production environment the bootstrap join token
// enrols agents into (DESIGN §5).
const SimulationEnv = "simulation"

// ensureSimulation creates the simulation environment at first start; an
// existing one is left as the administrators set it.
func ensureSimulation(ctx context.Context, inv bulwark.InventoryService) error {
	_, err := inv.FindEnvironment(ctx, SimulationEnv)
	if bulwark.ErrorCode(err) != bulwark.ENOTFOUND {
		return err
	}
	return inv.PutEnvironment(ctx, bulwark.Environment{Name: SimulationEnv,
		Description: "non-production; agents enrolled with BULWARK_AGENT_TOKEN land here"})
}

// loadOrCreateKey reads a 32-byte key from path, creating it (0600) at
// first start. It encrypts TOTP secrets at rest; it lives beside the
// database, not in it.
func loadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != 32 {
			return nil, bulwark.Errorf(bulwark.EINVALID, "%s: %d bytes, want 32", path, len(b))
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}
