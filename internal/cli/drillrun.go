package cli

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/alert"
	"github.com/bulwarkhq/bulwark/internal/drill"
	"github.com/bulwarkhq/bulwark/internal/engine"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
	"github.com/bulwarkhq/bulwark/internal/i18n"
	"github.com/bulwarkhq/bulwark/internal/probe"
	"github.com/bulwarkhq/bulwark/internal/report"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

// drillRunOptions is what `drill run` parses from its arguments.
type drillRunOptions struct {
	file        string
	server      string
	token       string
	db          string
	reportDir   string
	junit       string
	langs       []string
	alertListen string
	allowList   string
	seed        int64
	dryRun, yes bool
	maxAfter    time.Duration
}

func drillRunCommand(g *globals) *cobra.Command {
	var opts drillRunOptions
	var lang string
	return command{
		use:   "run FILE",
		short: "Run a drill: steady state, faults, recovery, measures, verdict and reports",
		long: "Exit codes: 0 passed, 1 failed or aborted, 2 invalid input (nothing injected),\n" +
			"3 the platform could not run the drill or verify its recovery.",
		args: cobra.ExactArgs(1),
		flags: func(c *cobra.Command) {
			f := c.Flags()
			f.StringVar(&opts.server, "server", "", "run on a Bulwark server (env BULWARK_SERVER)")
			f.StringVar(&opts.token, "token", "", "API token for --server (env BULWARK_TOKEN)")
			f.StringVar(&opts.db, "db", "", "run store, sqlite:PATH (env BULWARK_DB, default <state-dir>/bulwark.db)")
			f.StringVar(&opts.reportDir, "report-dir", "bulwark-reports", "where to write the reports")
			f.StringVar(&opts.junit, "junit", "", "also write a JUnit XML file here")
			f.StringVar(&lang, "lang", "", "report languages, comma-separated: zh-CN, en (env BULWARK_LANG, default zh-CN,en)")
			f.StringVar(&opts.alertListen, "alert-listen", "", "receive alerts (Alertmanager and generic webhooks) on this address during the run")
			f.StringVar(&opts.allowList, "allow-list", "", "file of SHA-256 allow-listed executables for command probes and actions")
			f.Int64Var(&opts.seed, "seed", 0, "seed for count:N and percent:P host selection")
			f.BoolVar(&opts.dryRun, "dry-run", false, "print the hosts, seed and faults, and stop")
			f.BoolVar(&opts.yes, "yes", false, "confirm manual steps without asking")
			f.DurationVar(&opts.maxAfter, "max-after", 0, "longest wait for the steady state to return after the steps")
		},
		run: func(ctx context.Context, args []string) error {
			opts.file = args[0]
			langs, err := parseLangs(lang, g.env.Getenv("BULWARK_LANG"))
			if err != nil {
				return err
			}
			opts.langs = langs
			if opts.server == "" {
				opts.server = g.env.Getenv("BULWARK_SERVER")
			}
			return runDrill(ctx, g, opts)
		},
	}.cobra()
}

func parseLangs(flag, env string) ([]string, error) {
	s := flag
	if s == "" {
		s = env
	}
	if s == "" {
		return []string{i18n.ZH, i18n.EN}, nil
	}
	var out []string
	for _, l := range strings.Split(s, ",") {
		p, err := i18n.Parse(strings.TrimSpace(l))
		if err != nil {
			return nil, usagef("--lang: %v", err)
		}
		out = append(out, p)
	}
	return out, nil
}

func runDrill(ctx context.Context, g *globals, opts drillRunOptions) error {
	if opts.server != "" {
		return runDrillRemote(ctx, g, opts)
	}
	raw, err := os.ReadFile(opts.file)
	if err != nil {
		return usagef("%s: %v", opts.file, err)
	}
	d, err := drill.Parse(opts.file, raw, drillParseOptions(false)...)
	if err != nil {
		return &UsageError{err}
	}
	for _, w := range d.Warnings {
		fmt.Fprintln(g.env.Stderr, "warning:", w.String())
	}
	sum := sha256.Sum256(raw)
	cfg, cleanup, err := g.engineConfig(ctx, d, opts)
	if err != nil {
		return err
	}
	defer cleanup()
	cfg.DrillSHA256 = hex.EncodeToString(sum[:])
	res, err := engine.Run(ctx, cfg)
	var pe *engine.PlanError
	switch {
	case errors.As(err, &pe) && pe.OverBlastRadius:
		return &UsageError{err}
	case err != nil:
		return &ExitError{Code: ExitInternal, Err: err}
	case opts.dryRun:
		return nil
	}
	return finishDrill(ctx, g, cfg.Store, res, opts)
}

// engineConfig wires the local executor, the run store, the alert receiver
// and the allow-list, and finishes runs a killed `drill run` left behind.
func (g *globals) engineConfig(ctx context.Context, d *drill.Drill, opts drillRunOptions) (engine.Config, func(), error) {
	var closers []func()
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	cfg := engine.Config{Drill: d, Progress: g.env.Stdout, Seed: opts.seed, DryRun: opts.dryRun, MaxAfter: opts.maxAfter}
	cfg.Executor = &engine.LocalExecutor{Host: localHost(d), Open: func(ctx context.Context) (*hostmgr.Manager, error) { return g.openManager(ctx) }}
	if opts.dryRun {
		return cfg, cleanup, nil
	}
	store, closeStore, err := g.openStore(ctx, opts.db)
	if err != nil {
		return cfg, cleanup, err
	}
	closers = append(closers, closeStore)
	cfg.Store = store
	if done, err := engine.Cleanup(ctx, store, cfg.Executor, localHost(d).Name); err != nil {
		cleanup()
		return cfg, func() {}, err
	} else if len(done) > 0 {
		fmt.Fprintf(g.env.Stderr, "finished %d run(s) whose process had been killed, and recovered their faults\n", len(done))
	}
	if opts.allowList != "" {
		al, err := probe.LoadAllowList(opts.allowList)
		if err != nil {
			cleanup()
			return cfg, func() {}, usagef("--allow-list: %v", err)
		}
		cfg.ProbeOptions.AllowList = al
	}
	if opts.alertListen != "" {
		ch, stop, err := listenAlerts(ctx, opts.alertListen, g.env.Stderr)
		if err != nil {
			cleanup()
			return cfg, func() {}, err
		}
		closers = append(closers, stop)
		cfg.Alerts = ch
	}
	cfg.Confirm = confirmer(opts.yes, g.env)
	return cfg, cleanup, nil
}

// openStore opens the run store named by --db, BULWARK_DB or the default
// file in the state directory.
func (g *globals) openStore(ctx context.Context, spec string) (bulwark.RunStore, func(), error) {
	if spec == "" {
		spec = g.env.Getenv("BULWARK_DB")
	}
	if spec == "" {
		spec = "sqlite:" + filepath.Join(g.dir(), "bulwark.db")
	}
	path, ok := strings.CutPrefix(spec, "sqlite:")
	if !ok {
		return nil, nil, usagef("--db: %q is not sqlite:PATH (PostgreSQL comes with the server)", spec)
	}
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		return nil, nil, fmt.Errorf("open run store %s: %w", path, err)
	}
	return sqlite.NewRunStore(db), func() { db.Close() }, nil
}

// localHost is this machine as the standalone engine sees it: it carries
// the drill's system and environment, so the default selector picks it.
func localHost(d *drill.Drill) engine.Host {
	name, _ := os.Hostname()
	h := engine.Host{Name: name, Labels: map[string]string{"system": d.Metadata.System, "env": d.Metadata.Environment}}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				h.IPs = append(h.IPs, ipn.IP.String())
			}
		}
	}
	return h
}

// listenAlerts serves the alert receiver on addr for the run's lifetime.
func listenAlerts(ctx context.Context, addr string, log io.Writer) (<-chan alert.Alert, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, usagef("--alert-listen: %v", err)
	}
	rcv := alert.NewReceiver(alert.Config{})
	srv := &http.Server{Handler: rcv, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	fmt.Fprintf(log, "receiving alerts on http://%s/ (Alertmanager), /webhook/zabbix, /webhook/nightingale, /ack\n", ln.Addr())
	subCtx, cancel := context.WithCancel(ctx)
	ch := rcv.Subscribe(subCtx, 256)
	return ch, func() { cancel(); srv.Close() }, nil
}

// confirmer answers manual steps: yes to all with --yes, else a question on
// the terminal, else nobody (the step fails).
func confirmer(yes bool, env *Env) func(context.Context, string, *drill.Manual) (bool, error) {
	if yes {
		return func(context.Context, string, *drill.Manual) (bool, error) { return true, nil }
	}
	st, err := os.Stdin.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return func(ctx context.Context, name string, m *drill.Manual) (bool, error) {
		fmt.Fprintf(env.Stdout, "manual step %q (%s): done? [y/N] ", name, m.Assignee)
		answer := make(chan string, 1)
		go func() {
			line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
			answer <- strings.TrimSpace(strings.ToLower(line))
		}()
		select {
		case a := <-answer:
			return a == "y" || a == "yes", nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// finishDrill writes the reports, records their paths, prints where they
// are, and turns the verdict into the exit code (contract 7).
func finishDrill(ctx context.Context, g *globals, store bulwark.RunStore, res *engine.Result, opts drillRunOptions) error {
	paths, err := report.WriteAll(opts.reportDir, res.Report, opts.langs, opts.junit)
	if err != nil {
		return &ExitError{Code: ExitInternal, Err: fmt.Errorf("write reports: %w", err)}
	}
	if _, err := store.UpdateRun(context.WithoutCancel(ctx), res.Run.ID, bulwark.RunUpdate{ReportPaths: paths}); err != nil {
		fmt.Fprintln(g.env.Stderr, "warning: record report paths:", err)
	}
	for _, f := range []bulwark.ReportFormat{bulwark.ReportHTML, bulwark.ReportMarkdown, bulwark.ReportJSON, bulwark.ReportJUnit} {
		if p, ok := paths[f]; ok {
			fmt.Fprintf(g.env.Stdout, "report %-5s %s\n", f, p)
		}
	}
	if code := res.Run.Verdict.ExitCode(); code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}
