package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/server"
)

// DefaultServerDataDir is where `bulwark server` keeps its database, audit
// key and CA unless --data-dir says otherwise.
const DefaultServerDataDir = "/var/lib/bulwark/server"

type serverOptions struct {
	cfg        server.AppConfig
	localAgent bool
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
			f.BoolVar(&o.localAgent, "local-agent", false, "also run an agent in this process (never by default: a management server must not become a fault target)")
		},
		run: func(ctx context.Context, _ []string) error { return runServer(ctx, g, o) },
	}.cobra()
}

func runServer(ctx context.Context, g *globals, o serverOptions) error {
	o.cfg.AdminToken = g.env.Getenv("BULWARK_ADMIN_TOKEN")
	o.cfg.Logger = slog.New(slog.NewTextHandler(g.env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if o.localAgent {
		return usagef("--local-agent: not available yet in this build")
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
	<-ctx.Done()
	closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return app.Close(closeCtx)
}
