package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agent"
	"github.com/bulwarkhq/bulwark/internal/agentgw"
	"github.com/bulwarkhq/bulwark/internal/server"
)

// DefaultServerDataDir is where `bulwark server` keeps its database, audit
// key and CA unless --data-dir says otherwise.
const DefaultServerDataDir = "/var/lib/bulwark/server"

type serverOptions struct {
	cfg        server.AppConfig
	localAgent bool
	agentToken string
}

// serverCommand runs the control plane: the REST API, the agent gateway and
// the audit log, on the embedded SQLite store by default.
func serverCommand(g *globals) *cobra.Command {
	var o serverOptions
	return command{
		use:   "server [--db sqlite:PATH] [--listen ADDR] [--tls-cert FILE --tls-key FILE]",
		short: "Run the control plane: REST API under /api/v1, agents, policy gate, audit log",
		long: "Serves /api/v1 (OpenAPI at /api/v1/openapi.json) and /metrics.\n" +
			"BULWARK_ADMIN_TOKEN bootstraps the first admin's API token at first start;\n" +
			"BULWARK_AGENT_TOKEN (or --agent-token) one join token for the simulation environment.",
		args: cobra.NoArgs,
		flags: func(c *cobra.Command) {
			f := c.Flags()
			f.StringVar(&o.cfg.DataDir, "data-dir", DefaultServerDataDir, "directory for the database, audit key and checkpoints, and the agents' CA")
			f.StringVar(&o.cfg.DB, "db", "", "database: sqlite:PATH (default sqlite:<data-dir>/bulwark.db)")
			f.StringVar(&o.cfg.Listen, "listen", "127.0.0.1:8440", "API address")
			f.StringVar(&o.cfg.TLSCert, "tls-cert", "", "PEM certificate for HTTPS")
			f.StringVar(&o.cfg.TLSKey, "tls-key", "", "PEM key for HTTPS")
			f.StringVar(&o.cfg.AuditKeyPath, "audit-key", "", "ed25519 key that signs audit checkpoints (default <data-dir>/audit-key.pem, created at first start)")
			f.StringVar(&o.cfg.AuditSyslog, "audit-syslog", "", "also export audit checkpoints to syslog at NETWORK:ADDRESS (e.g. unixgram:/dev/log)")
			f.StringArrayVar(&o.cfg.NotifyWebhooks, "notify-webhook", nil, "POST drill-window notices (start, end, hosts, systems) to this URL, so monitoring can tag drill alerts; repeatable")
			f.StringArrayVar(&o.cfg.Gate.PolicyFiles, "policy", nil, "policy file (kind: Policy) for the gate; repeatable; built-in defaults cover environments no file names")
			f.StringArrayVar(&o.cfg.Gate.CalendarFiles, "calendar", nil, "calendar file (kind: Calendar, e.g. examples/calendars/cn-a-share.yaml); repeatable")
			f.StringVar(&o.cfg.Gate.ChangeGateURL, "change-gate", "", "URL of the change-ticket gate (POST {ticket, hosts, systems, environment, start, end})")
			f.StringVar(&o.cfg.Gate.ChangeGateNotifyURL, "change-gate-notify", "", "URL that receives run start/end/verdict notices for the change system")
			f.StringVar(&o.cfg.Gate.ChangeGateTokenFile, "change-gate-token-file", "", "file holding the change gate's bearer token")
			f.StringVar(&o.cfg.AgentListen, "agent-listen", "127.0.0.1:8441", "agent gateway address (gRPC with mTLS); agents run `bulwark agent --server HOST:PORT`")
			f.StringArrayVar(&o.cfg.AgentServerNames, "agent-server-name", nil, "DNS name or address agents use to reach the gateway (goes into its certificate); repeatable")
			f.DurationVar(&o.cfg.AgentLease, "lease", 30*time.Second, "lease sent to agents: they recover the server's faults when it is not renewed for this long")
			f.StringVar(&o.agentToken, "agent-token", "", "join token into the simulation environment (env BULWARK_AGENT_TOKEN)")
			f.StringVar(&o.cfg.OIDC.Issuer, "oidc-issuer", "", "OIDC provider for single sign-on (the firm's IdP)")
			f.StringVar(&o.cfg.OIDC.ClientID, "oidc-client-id", "", "OIDC client id")
			f.StringVar(&o.cfg.OIDCClientSecretFile, "oidc-client-secret-file", "", "file holding the OIDC client secret")
			f.StringVar(&o.cfg.OIDC.RedirectURL, "oidc-redirect-url", "", "this server's /auth/oidc/callback URL as registered with the provider")
			f.BoolVar(&o.localAgent, "local-agent", false, "also run an agent in this process (never by default: a management server must not become a fault target)")
		},
		run: func(ctx context.Context, _ []string) error { return runServer(ctx, g, o) },
	}.cobra()
}

func runServer(ctx context.Context, g *globals, o serverOptions) error {
	o.cfg.AdminToken = g.env.Getenv("BULWARK_ADMIN_TOKEN")
	o.cfg.AgentToken = o.agentToken
	if o.cfg.AgentToken == "" {
		o.cfg.AgentToken = g.env.Getenv("BULWARK_AGENT_TOKEN")
	}
	o.cfg.Logger = slog.New(slog.NewTextHandler(g.env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if o.localAgent && o.cfg.AgentListen == "" {
		return usagef("--local-agent: needs the agent gateway (--agent-listen)")
	}
	app, err := server.OpenApp(ctx, o.cfg)
	if err != nil {
		if bulwark.ErrorCode(err) == bulwark.EINVALID {
			return &UsageError{err}
		}
		return err
	}
	if err := app.Start(); err != nil {
		_ = app.Close(context.Background())
		return err
	}
	fmt.Fprintf(g.env.Stderr, "bulwark server listening on %s (data in %s)\n", app.Server.URL(), o.cfg.DataDir)
	if app.AgentAddr != "" {
		fmt.Fprintf(g.env.Stderr, "agent gateway on %s (CA %s): bulwark agent --server %s --token JOIN-TOKEN --ca-pin %s\n",
			app.AgentAddr, app.CAPin, app.AgentAddr, app.CAPin)
	}
	agentDone := make(chan error, 1)
	if o.localAgent {
		go func() { agentDone <- runLocalAgent(ctx, g, app) }()
	} else {
		close(agentDone)
	}
	<-ctx.Done()
	if err := <-agentDone; err != nil {
		fmt.Fprintln(g.env.Stderr, "local agent:", err)
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return app.Close(closeCtx)
}

// runLocalAgent runs an agent in this process (--local-agent), enrolled
// with a one-hour join token into simulation and pinned to this server's
// CA. Its management networks include the gateway's address, so network
// faults never cut the server off from it.
func runLocalAgent(ctx context.Context, g *globals, app *server.App) error {
	secret, _, err := app.Gateway.CreateJoinToken(ctx, agentgw.JoinTokenRequest{Name: "local agent (--local-agent)",
		Environment: server.SimulationEnv, TTL: time.Hour, CreatedBy: "system"})
	if err != nil {
		return err
	}
	host, err := g.host()
	if err != nil {
		return err
	}
	dir := g.dir()
	a, err := agent.New(agent.Config{Server: app.AgentAddr, Token: secret, StateDir: dir, CAPin: app.CAPin, Host: host,
		Labels: map[string]string{"local": "true"},
		OnLive: func(ctx context.Context, f *bulwark.Fault) { watch(ctx, dir, f, g.env) },
		Logger: slog.New(slog.NewTextHandler(g.env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		return err
	}
	return a.Run(ctx)
}
