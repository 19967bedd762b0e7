package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/alert"
	"github.com/bulwarkhq/bulwark/internal/drill"
	"github.com/bulwarkhq/bulwark/internal/engine"
	"github.com/bulwarkhq/bulwark/internal/report"
)

// Config is what the CLI gives the demo.
type Config struct {
	Out io.Writer
	// Host runs the host faults (the local executor on a private state
	// directory).
	Host engine.Executor
	// Available says why a kind cannot run here, or nil.
	Available func(ctx context.Context, kind string) error
	Store     bulwark.RunStore
	ReportDir string
	Langs     []string
}

// Outcome is one drill of the programme.
type Outcome struct {
	Name, Title string
	Run         *bulwark.Run
	Skipped     string
	Reports     map[bulwark.ReportFormat]string
}

// Run starts the sample system, runs the programme of drills against it and
// prints a summary. It returns the outcomes in programme order.
func Run(ctx context.Context, cfg Config) ([]Outcome, error) {
	sys, err := Start(ctx)
	if err != nil {
		return nil, fmt.Errorf("start the sample system: %w", err)
	}
	defer sys.Close()
	fmt.Fprintf(cfg.Out, "sample trading system: order API %s → quotes via proxy %s, store via proxy %s\n\n", sys.OrderURL, sys.QuotesAddr, sys.StoreAddr)

	rcv := alert.NewReceiver(alert.Config{})
	alertURL, stopAlerts, err := serve(rcv)
	if err != nil {
		return nil, err
	}
	defer stopAlerts()
	monCtx, stopMon := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	host, err := cfg.Host.Hosts(ctx)
	if err != nil || len(host) == 0 {
		stopMon()
		return nil, fmt.Errorf("list hosts: %w", err)
	}
	mon := &monitor{orderURL: sys.OrderURL, alertURL: alertURL, host: host[0].Name, client: &http.Client{Timeout: time.Second}}
	go mon.run(monCtx, &wg)
	defer func() { stopMon(); wg.Wait() }()

	ex := &executor{host: cfg.Host, proxies: sys.Proxies(), now: time.Now, live: map[string]*proxyFault{}}
	var outs []Outcome
	for _, d := range programme {
		if ctx.Err() != nil {
			break
		}
		o, err := runOne(ctx, cfg, d, sys, ex, rcv)
		if err != nil {
			return outs, err
		}
		outs = append(outs, o)
	}
	summary(cfg.Out, outs)
	return outs, ctx.Err()
}

func runOne(ctx context.Context, cfg Config, d drillDef, sys *System, ex engine.Executor, rcv *alert.Receiver) (Outcome, error) {
	o := Outcome{Name: d.name, Title: d.title}
	fmt.Fprintf(cfg.Out, "── drill %s: %s\n", d.name, d.title)
	// dep.* faults go to the demo's explicit proxies, which need no root;
	// only host kinds depend on what this host can do.
	if err := cfg.Available(ctx, d.kind); err != nil && !strings.HasPrefix(d.kind, "dep.") {
		o.Skipped = fmt.Sprintf("%s is not available here: %v", d.kind, err)
		fmt.Fprintf(cfg.Out, "   skipped: %s\n\n", o.Skipped)
		return o, nil
	}
	raw := drillYAML(d, sys.OrderURL, sys.QuotesAddr, sys.StoreAddr)
	dr, err := drill.Parse("demo-"+d.name+".yaml", raw)
	if err != nil {
		return o, fmt.Errorf("demo drill %s: %w", d.name, err)
	}
	sum := sha256.Sum256(raw)
	subCtx, unsubscribe := context.WithCancel(ctx)
	defer unsubscribe()
	res, err := engine.Run(ctx, engine.Config{
		Drill: dr, DrillSHA256: hex.EncodeToString(sum[:]), Executor: ex, Store: cfg.Store,
		Alerts: rcv.Subscribe(subCtx, 256), Progress: indent{cfg.Out}, MaxAfter: 8 * time.Second,
	})
	if err != nil {
		return o, fmt.Errorf("demo drill %s: %w", d.name, err)
	}
	o.Run = res.Run
	o.Reports, err = report.WriteAll(cfg.ReportDir, res.Report, cfg.Langs, "")
	if err != nil {
		return o, fmt.Errorf("write reports: %w", err)
	}
	cfg.Store.UpdateRun(context.WithoutCancel(ctx), res.Run.ID, bulwark.RunUpdate{ReportPaths: o.Reports})
	fmt.Fprintln(cfg.Out)
	return o, nil
}

// summary prints the programme's verdicts and measures.
func summary(w io.Writer, outs []Outcome) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DRILL\tVERDICT\tMTTD\tTIME TO EFFECT\tMTTR\tREPORT")
	for _, o := range outs {
		if o.Run == nil {
			fmt.Fprintf(tw, "%s\tskipped\t-\t-\t-\t%s\n", o.Name, o.Skipped)
			continue
		}
		m := o.Run.Measures
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.Name, o.Run.Verdict, dur(m.MTTD, m.MTTDSource), dur(m.TimeToEffect, ""), dur(m.MTTR, ""), o.Reports[bulwark.ReportHTML])
	}
	tw.Flush()
}

func dur(d *bulwark.Duration, src bulwark.MTTDSource) string {
	if d == nil {
		return "not detected"
	}
	s := d.Std().Round(10 * time.Millisecond).String()
	if src != "" {
		s += " (" + string(src) + ")"
	}
	return s
}

// serve serves h on a free loopback port and returns its URL.
func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/", func() { srv.Close(); <-done }, nil
}

// indent prefixes each progress line so drills stand apart.
type indent struct{ w io.Writer }

func (i indent) Write(p []byte) (int, error) {
	if _, err := i.w.Write(append([]byte("   "), p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}
