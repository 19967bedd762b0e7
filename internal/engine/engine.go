package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/alert"
	"github.com/bulwarkhq/bulwark/internal/drill"
	"github.com/bulwarkhq/bulwark/internal/probe"
	"github.com/bulwarkhq/bulwark/internal/report"
)

// Config is one run's configuration.
type Config struct {
	Drill *drill.Drill
	// DrillSHA256 is the hash of the drill file's bytes (approvals bind it).
	DrillSHA256 string
	Executor    Executor
	Store       bulwark.RunStore
	// Alerts delivers alerts received while the run lasts; nil when no
	// alert source is configured (MTTD then falls back to the probes).
	Alerts <-chan alert.Alert
	// Confirm answers a manual step; nil fails every manual step.
	Confirm func(ctx context.Context, step string, m *drill.Manual) (bool, error)
	// ProbeOptions are given to every probe (the command allow-list).
	ProbeOptions probe.Options
	// Progress receives human-readable progress lines; nil for none.
	Progress io.Writer
	Logger   *slog.Logger
	// Seed chooses hosts for count:N and percent:P selectors; 0 picks one.
	Seed int64
	// DryRun resolves hosts and prints the plan, and stops.
	DryRun bool
	// RecoverTimeout bounds the recovery of everything at the end.
	RecoverTimeout time.Duration
	// MaxAfter bounds how long the engine waits for the steady state to be
	// restored after the steps; default 2×settle + 10 s.
	MaxAfter time.Duration
	Now      func() time.Time
}

// ErrInterrupted reports a run stopped by its context (Ctrl-C, SIGTERM).
var ErrInterrupted = errors.New("interrupted")

// runner is the state of one run.
type runner struct {
	cfg    Config
	d      *drill.Drill
	run    *bulwark.Run
	rng    *rand.Rand
	plan   *Plan
	log    *slog.Logger
	out    *progress
	probes *probeSet

	mu       sync.Mutex
	live     map[string]liveFault // faults not yet verified recovered
	steps    []*stepRecord
	alerts   []alert.Alert
	platform []error // what makes the verdict error
	aborted  string  // why the run was aborted, if it was
	failed   []string
	judged   []judgement
	// afterStart is when the after phase began (zero if it never did).
	afterStart time.Time
}

type liveFault struct {
	host  Host
	fault *bulwark.Fault
}

// Result is what Run produced: the finished run, and everything its
// reports show.
type Result struct {
	Run *bulwark.Run
	// Plan is the hosts each fault step landed on (or would, in a dry run).
	Plan *Plan
	// Report is the input of the run's reports; nil for a dry run.
	Report *report.Input
}

// Run executes the drill and returns the finished run. An error means the
// run could not be created or finished in the store; everything else,
// including a failed recovery, is in the run's verdict and reason. A
// *PlanError is returned before anything is injected.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	r, err := newRunner(cfg)
	if err != nil {
		return nil, err
	}
	if err := r.resolve(ctx); err != nil {
		return nil, err
	}
	if cfg.DryRun {
		r.out.plan(r.plan, r.run.Seed)
		return &Result{Run: r.run, Plan: r.plan}, nil
	}
	if err := r.create(ctx); err != nil {
		return nil, err
	}
	r.execute(ctx)
	run, err := r.finish(ctx)
	if err != nil {
		return nil, err
	}
	in, err := r.reportInput(context.WithoutCancel(ctx))
	if err != nil {
		return nil, err
	}
	return &Result{Run: run, Plan: r.plan, Report: in}, nil
}

func newRunner(cfg Config) (*runner, error) {
	if cfg.Drill == nil || cfg.Executor == nil || cfg.Store == nil && !cfg.DryRun {
		return nil, fmt.Errorf("run drill: drill, executor and store are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RecoverTimeout == 0 {
		cfg.RecoverTimeout = 2 * time.Minute
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Int64N(1<<53) + 1
	}
	d := cfg.Drill
	host, _ := os.Hostname()
	run := &bulwark.Run{
		ID: bulwark.NewID(), DrillName: d.Metadata.Name, System: d.Metadata.System,
		Environment: d.Metadata.Environment, Type: typeOr(d.Metadata.Type), Risk: d.Metadata.Risk,
		Owner: d.Metadata.Owner, DrillSHA256: cfg.DrillSHA256, Seed: seed,
		Runner: bulwark.Runner{Host: host, PID: os.Getpid(), PIDStart: selfStart()},
		State:  bulwark.RunPending,
	}
	if d.Metadata.Change != nil {
		run.Ticket = d.Metadata.Change.Ticket
	}
	return &runner{
		cfg: cfg, d: d, run: run, rng: rand.New(rand.NewPCG(uint64(seed), 0x62756c77)),
		log: cfg.Logger, out: newProgress(cfg.Progress, cfg.Now), live: map[string]liveFault{},
	}, nil
}

func typeOr(t string) string {
	if t == "" {
		return "adhoc"
	}
	return t
}

// create stores the run and its first event.
func (r *runner) create(ctx context.Context) error {
	r.run.CreatedAt = r.cfg.Now().UTC()
	for _, h := range r.plan.Hosts {
		r.run.Hosts = append(r.run.Hosts, h.Name)
	}
	if err := r.cfg.Store.CreateRun(ctx, r.run); err != nil {
		return fmt.Errorf("create run: %w", err)
	}
	return r.event(ctx, bulwark.EventRunCreated, map[string]any{"drill": r.d.Metadata.Name, "seed": r.run.Seed, "hosts": r.run.Hosts})
}

// event persists a timeline entry. A store failure is a platform error: the
// run goes on to recover, and its verdict will be error.
func (r *runner) event(ctx context.Context, typ bulwark.EventType, data any) error {
	e := &bulwark.RunEvent{RunID: r.run.ID, Time: r.cfg.Now().UTC(), Type: typ}
	if data != nil {
		b, err := jsonBytes(data)
		if err != nil {
			return err
		}
		e.Data = b
	}
	if _, err := r.cfg.Store.AppendEvent(context.WithoutCancel(ctx), e); err != nil {
		r.platformError(fmt.Errorf("persist %s event: %w", typ, err))
		return err
	}
	r.out.event(e)
	return nil
}

func (r *runner) platformError(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.platform = append(r.platform, err)
	r.log.Error("drill platform error", "run", r.run.ID, "err", err)
}

func (r *runner) abort(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.aborted == "" {
		r.aborted = reason
	}
}

func (r *runner) isAborted() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.aborted != ""
}
