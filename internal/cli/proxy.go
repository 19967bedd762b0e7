package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/fault/dep"
	"github.com/bulwarkhq/bulwark/internal/proxy"
)

// proxyOptions are `bulwark proxy`'s flags.
type proxyOptions struct {
	listen, upstream, api, framing string
	drain                          time.Duration
}

// proxyCommand runs the fault proxy in explicit mode: clients are pointed at
// --listen, faults are added through the HTTP API on --api (Bulwark's own
// /faults routes and a Toxiproxy-compatible subset). Ctrl-C drains.
func proxyCommand(g *globals) *cobra.Command {
	var o proxyOptions
	return command{
		use:   "proxy --listen ADDR --upstream ADDR [--api ADDR]",
		short: "Run an explicit fault proxy in front of one dependency, with an HTTP API for faults",
		long: "Relays TCP connections from --listen to --upstream and applies the faults added through the HTTP API on --api:\n" +
			"  POST /faults {\"type\":\"slow\",\"delay\":\"300ms\"}, GET /faults, DELETE /faults/{id}\n" +
			"and Toxiproxy's /proxies and /proxies/{name}/toxics routes, so its client libraries keep working.\n" +
			"No root is needed and it runs on every platform; use it where transparent dep.* faults are not allowed.",
		args: cobra.NoArgs,
		flags: func(c *cobra.Command) {
			c.Flags().StringVar(&o.listen, "listen", "", "address clients connect to (HOST:PORT; port 0 picks a free one)")
			c.Flags().StringVar(&o.upstream, "upstream", "", "the dependency, HOST:PORT")
			c.Flags().StringVar(&o.api, "api", "", "address of the HTTP fault API (none when empty)")
			c.Flags().StringVar(&o.framing, "framing", "auto", "how connections are cut into units: raw, http1, http2 or auto")
			c.Flags().DurationVar(&o.drain, "drain", 30*time.Second, "how long live connections may drain on Ctrl-C")
		},
		run: func(ctx context.Context, _ []string) error { return runProxy(ctx, g.env, o) },
	}.cobra()
}

func runProxy(ctx context.Context, env *Env, o proxyOptions) error {
	switch {
	case o.listen == "":
		return usagef("--listen: required (for example --listen 127.0.0.1:16379)")
	case o.upstream == "":
		return usagef("--upstream: required (for example --upstream 127.0.0.1:6379)")
	}
	if _, _, err := net.SplitHostPort(o.upstream); err != nil {
		return usagef("--upstream: %q is not HOST:PORT", o.upstream)
	}
	framing, err := dep.Framing{Name: o.framing}.Proxy()
	if err != nil || o.framing == "length" || o.framing == "delimited" {
		return usagef("--framing: %q is not one of raw, http1, http2, auto", o.framing)
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	start := func(ctx context.Context, listen, upstream string) (*proxy.Proxy, string, error) {
		cfg := proxy.DefaultConfig()
		cfg.Resolve = proxy.Fixed(upstream)
		cfg.Framing = framing
		cfg.Logger = log
		p, err := proxy.New(cfg)
		if err != nil {
			return nil, "", err
		}
		addr, err := p.Open(ctx, listen)
		if err != nil {
			return nil, "", fmt.Errorf("listen on %s: %w", listen, err)
		}
		return p, addr.String(), nil
	}
	serveCtx := context.WithoutCancel(ctx) // Ctrl-C drains; it does not cut
	p, addr, err := start(serveCtx, o.listen, o.upstream)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "proxy listening on %s, upstream %s\n", addr, o.upstream)
	var srv *http.Server
	var api *proxy.API
	if o.api != "" {
		api = proxy.NewAPI(proxy.APIConfig{
			Name: "bulwark", Listen: addr, Upstream: o.upstream, P: p,
			Create: func(name, listen, upstream string) (*proxy.Proxy, string, error) {
				return start(serveCtx, listen, upstream)
			},
		})
		ln, err := net.Listen("tcp", o.api)
		if err != nil {
			_ = p.Close()
			return fmt.Errorf("listen on %s: %w", o.api, err)
		}
		srv = &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		fmt.Fprintf(env.Stdout, "api listening on http://%s (POST /faults, Toxiproxy /proxies)\n", ln.Addr())
	}
	<-ctx.Done()
	fmt.Fprintf(env.Stdout, "draining (at most %s)\n", o.drain)
	dctx, cancel := context.WithTimeout(context.Background(), o.drain)
	defer cancel()
	_ = p.SetFaults(nil) // held connections are released and drain untouched
	var errs []error
	if srv != nil {
		errs = append(errs, srv.Shutdown(dctx), api.Close())
	}
	if err := p.Shutdown(dctx); err != nil {
		errs = append(errs, fmt.Errorf("drain: %w", err))
	}
	return errors.Join(errs...)
}
