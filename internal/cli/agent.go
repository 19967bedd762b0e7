package cli

import (
	"context"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agent"
)

// agentOptions is what `bulwark agent` parses.
type agentOptions struct {
	server, token, labels, caFile, caPin string
	lease                                time.Duration
}

func agentCommand(g *globals) *cobra.Command {
	var o agentOptions
	return command{
		use:   "agent --server HOST:PORT --token JOIN-TOKEN [--labels k=v,...] [--lease 30s]",
		short: "Run this host's agent: enrol once, hold one stream to the server, reconcile its faults",
		long: "Run the agent. It enrols once with a join token (kept in <state-dir>/agent), dials the server's\n" +
			"agent gateway over mTLS, and holds the faults the server asks for while its lease is renewed.\n" +
			"While it runs, `bulwark fault …` on this host talks to it over <state-dir>/agent.sock.\n" +
			"The token may also come from BULWARK_AGENT_TOKEN. Reserved labels (env, system, unit, zone)\n" +
			"are set by the server from the inventory and refused here.",
		args: cobra.NoArgs,
		flags: func(c *cobra.Command) {
			c.Flags().StringVar(&o.server, "server", "", "the server's agent gateway, HOST:PORT or https://HOST:PORT")
			c.Flags().StringVar(&o.token, "token", "", "join token (env BULWARK_AGENT_TOKEN); needed only until enrolled")
			c.Flags().StringVar(&o.labels, "labels", "", "this agent's own labels, k=v,k=v")
			c.Flags().DurationVar(&o.lease, "lease", 30*time.Second, "recover the server's faults when no renewal comes for this long")
			c.Flags().StringVar(&o.caFile, "ca-file", "", "the server's CA certificate (PEM) to trust at enrolment")
			c.Flags().StringVar(&o.caPin, "ca-pin", "", "sha256:HEX fingerprint of the server's CA to trust at enrolment")
		},
		run: func(ctx context.Context, _ []string) error { return runAgent(ctx, g, o) },
	}.cobra()
}

func runAgent(ctx context.Context, g *globals, o agentOptions) error {
	if o.token == "" {
		o.token = g.env.Getenv("BULWARK_AGENT_TOKEN")
	}
	labels, err := agent.ParseLabels(o.labels)
	if err != nil {
		return &UsageError{err}
	}
	host, err := g.host()
	if err != nil {
		return err
	}
	dir := g.dir()
	gate := &agent.PolicyGate{}
	a, err := agent.New(agent.Config{
		Server: o.server, Token: o.token, StateDir: dir, Labels: labels, Lease: o.lease,
		CAFile: o.caFile, CAPin: o.caPin, Host: host, Gate: gate,
		OnLive: func(ctx context.Context, f *bulwark.Fault) { watch(ctx, dir, f, g.env) },
		Logger: slog.New(slog.NewTextHandler(g.env.Stderr, nil)),
	})
	if err != nil {
		return err
	}
	gate.HostID = a.ID
	return a.Run(ctx)
}

// faultService returns what `bulwark fault …` should talk to: the running
// agent over agent.sock when one answers, else the host manager itself.
// close releases it.
func (g *globals) faultService(ctx context.Context) (svc bulwark.FaultService, close func() error, err error) {
	if c, ok := agent.DialLocal(ctx, g.dir()); ok {
		return c, c.Close, nil
	}
	m, err := g.openManager(ctx)
	if err != nil {
		return nil, nil, err
	}
	return m, m.Close, nil
}
