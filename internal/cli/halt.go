package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"
)

type haltOptions struct {
	server, token, system, env, ticket string
	resume, asJSON                     bool
}

// haltCommand recovers every active fault in scope, now (DESIGN §6.3). With
// a server it halts every agent in scope and blocks new work until
// `bulwark halt --resume`; without one it recovers every fault on this host.
func haltCommand(g *globals) *cobra.Command {
	var o haltOptions
	return command{
		use:   "halt [--system S | --env E] [--server URL] [--resume]",
		short: "Recover every active fault in scope now and block new ones (--resume lifts the block)",
		args:  cobra.NoArgs,
		flags: func(c *cobra.Command) {
			f := c.Flags()
			f.StringVar(&o.server, "server", "", "server URL (env BULWARK_SERVER); without one, this host only")
			f.StringVar(&o.token, "token", "", "API token (env BULWARK_TOKEN)")
			f.StringVar(&o.system, "system", "", "halt only this system")
			f.StringVar(&o.env, "env", "", "halt only this environment")
			f.BoolVar(&o.resume, "resume", false, "lift the halt of exactly this scope")
			f.StringVar(&o.ticket, "ticket", "", "change ticket for --resume where policy needs one (production-class)")
			f.BoolVar(&o.asJSON, "json", false, "print JSON")
		},
		run: func(ctx context.Context, _ []string) error { return runHalt(ctx, g, o) },
	}.cobra()
}

func runHalt(ctx context.Context, g *globals, o haltOptions) error {
	c, remote, err := newAPIClient(g.env, o.server, o.token)
	if err != nil {
		return err
	}
	if !remote {
		if o.system != "" || o.env != "" || o.resume {
			return usagef("--system, --env and --resume need --server: without a server, halt recovers everything on this host")
		}
		return haltLocal(ctx, g, o.asJSON)
	}
	if o.resume {
		q := url.Values{}
		if o.system != "" {
			q.Set("system", o.system)
		}
		if o.env != "" {
			q.Set("environment", o.env)
		}
		if o.ticket != "" {
			q.Set("ticket", o.ticket)
		}
		var out map[string]any
		if err := c.do(ctx, "DELETE", "/api/v1/halt?"+q.Encode(), nil, &out); err != nil {
			return err
		}
		fmt.Fprintln(g.env.Stdout, "resumed")
		return nil
	}
	var out struct {
		Recovered []struct {
			ID, Agent string
			State     string
		} `json:"recovered"`
		NotAnswered []string `json:"notAnswered"`
		Agents      int      `json:"agents"`
	}
	if err := c.do(ctx, "POST", "/api/v1/halt", map[string]string{"system": o.system, "environment": o.env}, &out); err != nil {
		return err
	}
	if o.asJSON {
		return json.NewEncoder(g.env.Stdout).Encode(out)
	}
	fmt.Fprintf(g.env.Stdout, "halted %d agents: %d faults recovered\n", out.Agents, len(out.Recovered))
	for _, f := range out.Recovered {
		fmt.Fprintf(g.env.Stdout, "  %s on %s: %s\n", f.ID, f.Agent, f.State)
	}
	if len(out.NotAnswered) > 0 {
		fmt.Fprintf(g.env.Stdout, "did not answer (their faults end by lease or expiry): %v\n", out.NotAnswered)
		return &ExitError{Code: 1, Err: fmt.Errorf("%d agents did not answer the halt", len(out.NotAnswered))}
	}
	return nil
}

// haltLocal recovers every live fault on this host; it needs no server.
func haltLocal(ctx context.Context, g *globals, asJSON bool) error {
	m, err := g.openManager(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	faults, err := m.RecoverAll(ctx)
	if perr := printFaults(g.env.Stdout, faults, asJSON); err == nil {
		err = perr
	}
	if err != nil {
		return err
	}
	if len(faults) == 0 && !asJSON {
		fmt.Fprintln(g.env.Stdout, "no live faults on this host")
	}
	return nil
}
