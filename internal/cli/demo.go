package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/demo"
	"github.com/bulwarkhq/bulwark/internal/engine"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
)

// demoOptions is what `demo` parses from its arguments.
type demoOptions struct {
	once      bool
	reportDir string
	listen    string
	lang      string
}

func demoCommand(g *globals) *cobra.Command {
	var opts demoOptions
	return command{
		use:   "demo",
		short: "Run the whole platform on this machine: a sample trading system and a programme of drills",
		args:  cobra.NoArgs,
		flags: func(c *cobra.Command) {
			f := c.Flags()
			f.BoolVar(&opts.once, "once", false, "exit when the programme is done instead of serving the reports")
			f.StringVar(&opts.reportDir, "report-dir", "bulwark-demo-reports", "where to write the reports")
			f.StringVar(&opts.listen, "listen", "127.0.0.1:8686", "where to serve the reports afterwards (without --once)")
			f.StringVar(&opts.lang, "lang", "", "report languages, comma-separated: zh-CN, en (default both)")
		},
		run: func(ctx context.Context, _ []string) error { return runDemo(ctx, g, opts) },
	}.cobra()
}

// runDemo runs the demo on a private state directory and run store, so it
// needs no root and leaves this host's journal alone.
func runDemo(ctx context.Context, g *globals, opts demoOptions) error {
	langs, err := parseLangs(opts.lang, g.env.Getenv("BULWARK_LANG"))
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "bulwark-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dg := &globals{env: g.env, stateDir: filepath.Join(tmp, "state"), fileRoots: tmp}
	store, closeStore, err := dg.openStore(ctx, "sqlite:"+filepath.Join(tmp, "runs.db"))
	if err != nil {
		return err
	}
	defer closeStore()
	host, err := dg.host()
	if err != nil {
		return err
	}
	name, _ := os.Hostname()
	local := &engine.LocalExecutor{
		Host: engine.Host{Name: name, IPs: []string{"127.0.0.1"}, Labels: map[string]string{"system": "order-gateway", "env": "simulation"}},
		Open: func(ctx context.Context) (*hostmgr.Manager, error) { return dg.openManager(ctx) },
	}
	outs, err := demo.Run(ctx, demo.Config{
		Out: g.env.Stdout, Host: local, Store: store, ReportDir: opts.reportDir, Langs: langs,
		Available: func(ctx context.Context, kind string) error { return available(ctx, host, kind) },
	})
	if err != nil {
		return &ExitError{Code: ExitInternal, Err: err}
	}
	if opts.once {
		return nil
	}
	return demo.Serve(ctx, opts.listen, opts.reportDir, outs, g.env.Stdout)
}

// available says why this host cannot run kind, or nil.
func available(ctx context.Context, h *fault.Host, kind string) error {
	k, err := fault.Lookup(kind)
	if err != nil {
		return err
	}
	if !k.Info().Supports(runtime.GOOS) {
		return fmt.Errorf("not supported on %s", runtime.GOOS)
	}
	if a, ok := k.(fault.Availability); ok {
		return a.Available(ctx, h)
	}
	return nil
}
