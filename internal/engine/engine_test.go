package engine_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/drill"
	"github.com/bulwarkhq/bulwark/internal/engine"
	_ "github.com/bulwarkhq/bulwark/internal/fault/all"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// service is a real HTTP service whose health a fake executor breaks: the
// engine's logic is under test here, the kinds are tested on real hosts
// elsewhere.
type service struct {
	srv    *httptest.Server
	broken atomic.Bool
	slow   atomic.Int64 // added latency in ns
}

func newService(t *testing.T) *service {
	s := &service{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(time.Duration(s.slow.Load()))
		if s.broken.Load() {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// fakeExecutor applies a fault to the service: "break" makes it answer 500,
// anything else does nothing. It records injects and recovers.
type fakeExecutor struct {
	svc        *service
	mu         sync.Mutex
	live       map[string]bool
	hosts      []engine.Host
	failInject bool
	failRecov  bool
}

func (e *fakeExecutor) Hosts(context.Context) ([]engine.Host, error) { return e.hosts, nil }

func (e *fakeExecutor) Inject(_ context.Context, _ engine.Host, spec bulwark.FaultSpec) (*bulwark.Fault, error) {
	if e.failInject {
		return nil, errors.New("inject refused")
	}
	now := time.Now()
	f := &bulwark.Fault{ID: bulwark.NewID(), Kind: spec.Kind, Params: spec.Params, State: bulwark.StateActive, ActiveAt: &now,
		Evidence: []bulwark.Evidence{{Check: "fake", OK: true}}}
	if spec.Params["path"] == "/break" {
		e.svc.broken.Store(true)
	}
	e.mu.Lock()
	e.live[f.ID] = true
	e.mu.Unlock()
	return f, nil
}

func (e *fakeExecutor) Recover(_ context.Context, _ engine.Host, id string) (*bulwark.Fault, error) {
	if e.failRecov {
		return nil, errors.New("recover failed")
	}
	e.svc.broken.Store(false)
	e.mu.Lock()
	delete(e.live, id)
	e.mu.Unlock()
	return &bulwark.Fault{ID: id, State: bulwark.StateRecovered}, nil
}

func (e *fakeExecutor) liveCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.live)
}

const drillTmpl = `apiVersion: bulwark/v1
kind: Drill
metadata: {name: t, system: shop, environment: simulation}
spec:
  before: 600ms
  settle: 500ms
  steadyState:
    - name: api
      http: {url: "%s", timeout: 1s}
      interval: 50ms
      tolerance: {minSuccessRate: 0.95, minSamples: 3}
%s
  steps:
    - name: the fault
      fault: file.corrupt
      params: {path: "%s"}
      duration: 700ms
`

func parse(t *testing.T, svc *service, path, abort string) *drill.Drill {
	d, err := drill.Parse("t.yaml", fmt.Appendf(nil, drillTmpl, svc.srv.URL, abort, path))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func runDrill(t *testing.T, d *drill.Drill, ex *fakeExecutor, ctx context.Context) (*bulwark.Run, bulwark.RunStore) {
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "b.db"))
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := sqlite.NewRunStore(db)
	res, err := engine.Run(ctx, engine.Config{Drill: d, Executor: ex, Store: store, MaxAfter: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report == nil || len(res.Report.Events) == 0 || len(res.Report.Samples) == 0 {
		t.Fatalf("no report input: %+v", res.Report)
	}
	return res.Run, store
}

func newExec(svc *service) *fakeExecutor {
	return &fakeExecutor{svc: svc, live: map[string]bool{}, hosts: []engine.Host{{Name: "h1", Labels: map[string]string{"system": "shop", "env": "simulation"}}}}
}

func TestHarmlessFaultPasses(t *testing.T) {
	svc := newService(t)
	ex := newExec(svc)
	run, store := runDrill(t, parse(t, svc, "/tmp/harmless", ""), ex, context.Background())
	if run.Verdict != bulwark.VerdictPassed {
		t.Fatalf("verdict %s: %s", run.Verdict, run.Reason)
	}
	m := run.Measures
	if m.TActive == nil || m.TEnd == nil || m.TEffect != nil || m.MTTD != nil || m.MTTR != nil {
		t.Fatalf("measures of a harmless fault: %+v", m)
	}
	if ex.liveCount() != 0 {
		t.Fatal("fault left live")
	}
	evs, _ := store.Events(context.Background(), run.ID, 0)
	if evs[0].Type != bulwark.EventRunCreated || evs[len(evs)-1].Type != bulwark.EventRunFinished {
		t.Fatalf("timeline %v … %v", evs[0].Type, evs[len(evs)-1].Type)
	}
}

func TestBreakingFaultFailsWithMeasures(t *testing.T) {
	svc := newService(t)
	run, _ := runDrill(t, parse(t, svc, "/break", ""), newExec(svc), context.Background())
	if run.Verdict != bulwark.VerdictFailed || !strings.Contains(run.Reason, "api in step:1") {
		t.Fatalf("verdict %s: %s", run.Verdict, run.Reason)
	}
	m := run.Measures
	if m.TEffect == nil || m.MTTD == nil || m.MTTDSource != bulwark.MTTDFromProbe || m.MTTR == nil || m.TRestored == nil {
		t.Fatalf("measures: %+v", m)
	}
	if m.MTTD.Std() > 300*time.Millisecond {
		t.Errorf("MTTD %s with a 50ms probe", m.MTTD)
	}
	if m.TRestored.Before(*m.TEnd) {
		t.Errorf("restored %s before the fault ended %s", m.TRestored, m.TEnd)
	}
}

func TestAbortRecoversAndAborts(t *testing.T) {
	svc := newService(t)
	ex := newExec(svc)
	d := parse(t, svc, "/break", "  abort:\n    - when: \"api.successRate < 0.5\"\n      for: 100ms")
	run, _ := runDrill(t, d, ex, context.Background())
	if run.Verdict != bulwark.VerdictAborted || !strings.Contains(run.Reason, "abort condition") {
		t.Fatalf("verdict %s: %s", run.Verdict, run.Reason)
	}
	if ex.liveCount() != 0 || svc.broken.Load() {
		t.Fatal("fault not recovered after abort")
	}
}

func TestInterruptRecovers(t *testing.T) {
	svc := newService(t)
	ex := newExec(svc)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(900 * time.Millisecond); cancel() }() // during the fault
	run, _ := runDrill(t, parse(t, svc, "/break", ""), ex, ctx)
	if run.Verdict != bulwark.VerdictAborted || run.Reason != "interrupted" {
		t.Fatalf("verdict %s: %s", run.Verdict, run.Reason)
	}
	if ex.liveCount() != 0 {
		t.Fatal("fault left live after interrupt")
	}
}

func TestBrokenBeforeRefusesToStart(t *testing.T) {
	svc := newService(t)
	svc.broken.Store(true)
	ex := newExec(svc)
	run, _ := runDrill(t, parse(t, svc, "/tmp/x", ""), ex, context.Background())
	if run.Verdict != bulwark.VerdictAborted || !strings.Contains(run.Reason, "already broken") {
		t.Fatalf("verdict %s: %s", run.Verdict, run.Reason)
	}
	if run.Measures.TActive != nil {
		t.Fatal("a fault was injected although the steady state was broken")
	}
}

func TestRecoveryFailureIsError(t *testing.T) {
	svc := newService(t)
	ex := newExec(svc)
	ex.failRecov = true
	run, _ := runDrill(t, parse(t, svc, "/tmp/x", ""), ex, context.Background())
	if run.Verdict != bulwark.VerdictError || run.Verdict.ExitCode() != 3 {
		t.Fatalf("verdict %s: %s", run.Verdict, run.Reason)
	}
}

func TestBlastRadiusRefusedBeforeInject(t *testing.T) {
	svc := newService(t)
	ex := newExec(svc)
	ex.hosts = append(ex.hosts, engine.Host{Name: "h2", Labels: ex.hosts[0].Labels})
	_, err := engine.Run(context.Background(), engine.Config{Drill: parse(t, svc, "/tmp/x", ""), Executor: ex, DryRun: true})
	var pe *engine.PlanError
	if !errors.As(err, &pe) || !pe.OverBlastRadius {
		t.Fatalf("err = %v", err)
	}
	if ex.liveCount() != 0 {
		t.Fatal("injected")
	}
}
