package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/drill"
	"github.com/bulwarkhq/bulwark/internal/engine"
	"github.com/bulwarkhq/bulwark/internal/notify"
	"github.com/bulwarkhq/bulwark/internal/policy"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

// Run submission states that come before the engine's own run.
const (
	SubmissionAwaitingApproval = "awaiting-approval"
	SubmissionStarted          = "started"
	SubmissionRefused          = "refused"
)

// pendingRun is a submitted drill: waiting for approval, or started (then
// RunID names the engine's run).
type pendingRun struct {
	ID          string            `json:"id"`
	State       string            `json:"state"`
	Drill       string            `json:"drill"`
	System      string            `json:"system"`
	Environment string            `json:"environment"`
	SHA256      string            `json:"drillSha256"`
	Ticket      string            `json:"ticket,omitempty"`
	Submitter   bulwark.Principal `json:"submitter"`
	SubmittedAt time.Time         `json:"submittedAt"`
	Approvers   []string          `json:"approvers,omitempty"`
	Reasons     []string          `json:"reasons,omitempty"`
	RunID       string            `json:"runId,omitempty"`
	Hosts       []string          `json:"hosts,omitempty"`

	data    []byte
	name    string
	targets []GateTarget
	cancel  context.CancelCauseFunc
	done    chan struct{}
}

// runManager holds the runs the server executes and those waiting for an
// approval. Submissions live in memory: a restart forgets unapproved
// submissions (they are audited), while started runs are in the store and
// a restarted server finishes them (engine.Cleanup).
type runManager struct {
	s    *Server
	mu   sync.Mutex
	subs map[string]*pendingRun
	wg   sync.WaitGroup
	// base is cancelled when the server closes: running drills recover
	// and end aborted.
	base   context.Context
	cancel context.CancelCauseFunc
}

func newRunManager(s *Server) *runManager {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &runManager{s: s, subs: map[string]*pendingRun{}, base: ctx, cancel: cancel}
}

// submit parses the drill, resolves its hosts, and asks the gate. It
// starts the run when allowed, keeps it waiting when it needs approval, and
// refuses it otherwise.
func (m *runManager) submit(ctx context.Context, p bulwark.Principal, name string, data []byte) (*pendingRun, error) {
	d, err := drill.Parse(name, data)
	if err != nil {
		return nil, bulwark.Errorf(bulwark.EINVALID, "%v", err)
	}
	if err := d.CheckRemote(name); err != nil {
		return nil, bulwark.Errorf(bulwark.EINVALID, "%v", err)
	}
	sum := sha256.Sum256(data)
	pr := &pendingRun{ID: bulwark.NewID(), Drill: d.Metadata.Name, System: d.Metadata.System, Environment: d.Metadata.Environment,
		SHA256: hex.EncodeToString(sum[:]), Submitter: p, SubmittedAt: m.s.Now().UTC(), data: data, name: name, done: make(chan struct{})}
	if d.Metadata.Change != nil {
		pr.Ticket = d.Metadata.Change.Ticket
	}
	if err := m.resolve(ctx, pr, d); err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.subs[pr.ID] = pr
	m.mu.Unlock()
	return pr, m.gateAndStart(ctx, pr, d)
}

// resolve plans the drill against the connected agents (a dry run of the
// engine) and maps the planned hosts to inventory targets; the submitter
// must hold operator on each, and no halt may cover them. It sets the
// submission's targets and hosts under the manager's lock.
func (m *runManager) resolve(ctx context.Context, pr *pendingRun, d *drill.Drill) error {
	targets, hosts, err := m.plan(ctx, pr, d)
	if err != nil {
		return err
	}
	m.mu.Lock()
	pr.targets, pr.Hosts = targets, hosts
	m.mu.Unlock()
	return nil
}

func (m *runManager) plan(ctx context.Context, pr *pendingRun, d *drill.Drill) (targets []GateTarget, hosts []string, err error) {
	res, err := engine.Run(ctx, engine.Config{Drill: d, DryRun: true, Executor: &remoteExecutor{s: m.s, run: pr}})
	if err != nil {
		var pe *engine.PlanError
		if errors.As(err, &pe) {
			return nil, nil, bulwark.Errorf(bulwark.EINVALID, "%v", err)
		}
		return nil, nil, err
	}
	for _, h := range res.Plan.Hosts {
		a := FleetAgent{Hostname: h.Name, Labels: h.Labels}
		t, err := m.s.target(ctx, a)
		if err != nil {
			return nil, nil, err
		}
		res := bulwark.Resource{System: t.System.Name, Team: t.System.OwnerTeam, Environment: t.Environment.Name}
		if err := m.s.Auth.Allowed(ctx, pr.Submitter, bulwark.RoleOperator, res); err != nil {
			return nil, nil, err
		}
		if err := m.s.blocked(t.System.Name, t.Environment.Name); err != nil {
			return nil, nil, err
		}
		targets = append(targets, t)
		hosts = append(hosts, h.Name)
	}
	return targets, hosts, m.s.checkUnits(ctx, targets)
}

// gateAndStart asks the gate for run.start and acts on the answer.
func (m *runManager) gateAndStart(ctx context.Context, pr *pendingRun, d *drill.Drill) error {
	req := GateRequest{Principal: pr.Submitter, Action: ActionRunStart, Targets: pr.targets, Duration: plannedDuration(d),
		Ticket: pr.Ticket, DrillSHA256: pr.SHA256}
	dec, err := m.s.decideRaw(ctx, req, "run/"+pr.ID)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	pr.Approvers, pr.Reasons = dec.Approvers, dec.Reasons
	switch dec.Outcome {
	case OutcomeAllow:
		m.startLocked(pr, d)
	case OutcomeNeedsApproval:
		pr.State = SubmissionAwaitingApproval
	default:
		pr.State = SubmissionRefused
	}
	m.persistLocked(pr)
	return nil
}

// persistLocked writes the submission's state, so that one waiting for an
// approval outlives a restart. A store that is down is logged: the
// submission still works in this process.
func (m *runManager) persistLocked(pr *pendingRun) {
	if m.s.Submissions == nil {
		return
	}
	sub := sqlite.Submission{ID: pr.ID, State: pr.State, FileName: pr.name, Drill: pr.data, DrillSHA256: pr.SHA256,
		Submitter: pr.Submitter, SubmittedAt: pr.SubmittedAt, RunID: pr.RunID, Reasons: pr.Reasons}
	if err := m.s.Submissions.PutSubmission(context.Background(), sub); err != nil {
		m.s.Logger.Error("persist run submission", "id", pr.ID, "state", pr.State, "err", err)
	}
}

// load brings back the submissions that were waiting for an approval when
// the server stopped. Their hosts are resolved again when they are
// approved (the agents must be connected then).
func (m *runManager) load(ctx context.Context) error {
	if m.s.Submissions == nil {
		return nil
	}
	subs, err := m.s.Submissions.Submissions(ctx, SubmissionAwaitingApproval)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, sub := range subs {
		d, err := drill.Parse(sub.FileName, sub.Drill)
		if err != nil {
			m.s.Logger.Error("a stored run submission no longer parses; left waiting", "id", sub.ID, "err", err)
			continue
		}
		pr := &pendingRun{ID: sub.ID, State: sub.State, Drill: d.Metadata.Name, System: d.Metadata.System,
			Environment: d.Metadata.Environment, SHA256: sub.DrillSHA256, Submitter: sub.Submitter,
			SubmittedAt: sub.SubmittedAt, Reasons: sub.Reasons, data: sub.Drill, name: sub.FileName, done: make(chan struct{})}
		if d.Metadata.Change != nil {
			pr.Ticket = d.Metadata.Change.Ticket
		}
		m.subs[pr.ID] = pr
	}
	return nil
}

// startLocked runs the drill in the background under the server's
// lifetime, not the request's.
func (m *runManager) startLocked(pr *pendingRun, d *drill.Drill) {
	pr.State = SubmissionStarted
	ctx, cancel := context.WithCancelCause(m.base)
	pr.cancel = cancel
	started := make(chan string, 1)
	store := &runIDStore{RunStore: m.s.RunStore, created: started}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(pr.done)
		defer cancel(nil)
		w := m.window(pr, d)
		m.s.Notify.Start(w)
		m.changeNotice(pr, "start", "", "")
		res, err := engine.Run(ctx, engine.Config{Drill: d, DrillSHA256: pr.SHA256, Store: store,
			Executor: &remoteExecutor{s: m.s, run: pr}, Logger: m.s.Logger})
		w.EndsAt = m.s.Now().UTC()
		verdict := "error"
		if err == nil {
			verdict = string(res.Run.Verdict)
		}
		m.s.Notify.End(w, verdict)
		if err == nil && res.Report != nil {
			m.s.storeReports(context.Background(), res.Run.ID, res.Report)
		}
		m.changeNotice(pr, "end", verdict, "/api/v1/runs/"+pr.ID+"/report?format=html")
		status, reason := "ok", ""
		switch {
		case err != nil:
			status, reason = "error", err.Error()
		case res.Run.Verdict != bulwark.VerdictPassed:
			reason = string(res.Run.Verdict) + ": " + res.Run.Reason
		}
		m.s.record(context.Background(), pr.Submitter, "run.finish", "run/"+pr.ID, map[string]string{"drillSha256": pr.SHA256}, status, reason)
	}()
	select {
	case id := <-started:
		pr.RunID = id
	case <-pr.done:
	case <-time.After(10 * time.Second):
	}
	m.persistLocked(pr)
}

// plannedDuration is the sum of the drill's step durations and waits: the
// interval the gate checks against the calendar (plus its recovery margin).
func plannedDuration(d *drill.Drill) time.Duration {
	var walk func(steps []drill.Step) time.Duration
	walk = func(steps []drill.Step) time.Duration {
		var total time.Duration
		for i := range steps {
			st := &steps[i]
			step := st.StartDelay.Std() + st.Duration.Std() + walk(st.Serial)
			if st.Wait != nil {
				step += st.Wait.Std()
			}
			for _, p := range st.Parallel {
				step = max(step, walk([]drill.Step{p}))
			}
			total += step
		}
		return total
	}
	before, settle := d.Spec.Before, d.Spec.Settle
	if before == 0 {
		before = drill.DefaultBefore
	}
	if settle == 0 {
		settle = drill.DefaultSettle
	}
	return walk(d.Spec.Steps) + before.Std() + settle.Std()
}

// halt stops every running drill in scope: its context ends with the halt
// as cause, the engine recovers everything and the verdict is aborted.
// Submissions waiting for approval in scope are refused.
func (m *runManager) halt(scope HaltScope) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, pr := range m.subs {
		if !scope.Covers(pr.System, pr.Environment) {
			continue
		}
		switch pr.State {
		case SubmissionStarted:
			if pr.cancel != nil {
				pr.cancel(&engine.AbortCause{Reason: fmt.Sprintf("halted: a halt of %s", scope)})
			}
		case SubmissionAwaitingApproval:
			pr.State = SubmissionRefused
			pr.Reasons = append(pr.Reasons, "halted before approval")
			m.persistLocked(pr)
		}
	}
}

// close aborts running drills and waits for their recovery.
func (m *runManager) close() {
	m.cancel(&engine.AbortCause{Reason: "halted: the server is shutting down"})
	m.wg.Wait()
}

func (m *runManager) get(id string) (*pendingRun, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if pr, ok := m.subs[id]; ok {
		return pr, true
	}
	for _, pr := range m.subs {
		if pr.RunID == id {
			return pr, true
		}
	}
	return nil, false
}

// runIDStore tells the manager the engine's run id as soon as the run is
// created.
type runIDStore struct {
	bulwark.RunStore
	created chan<- string
	once    sync.Once
}

func (s *runIDStore) CreateRun(ctx context.Context, r *bulwark.Run) error {
	err := s.RunStore.CreateRun(ctx, r)
	if err == nil {
		s.once.Do(func() { s.created <- r.ID })
	}
	return err
}

// cleanup finishes the runs a killed server left behind: it takes their
// faults out of the agents' desired sets, waits a bounded time for the
// agents to report them recovered, and ends each run with the verdict
// error. It runs once at start, in the background.
func (m *runManager) cleanup(ctx context.Context, hostname string) {
	if m.s.RunStore == nil || m.s.Fleet == nil {
		return
	}
	ex := &remoteExecutor{s: m.s, run: &pendingRun{}, all: true}
	if _, err := ex.Hosts(ctx); err != nil {
		m.s.Logger.Error("finish runs of a previous server process", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	done, err := engine.Cleanup(ctx, m.s.RunStore, ex, hostname)
	if err != nil {
		m.s.Logger.Error("finish runs of a previous server process", "err", err)
	}
	for _, r := range done {
		m.s.record(ctx, bulwark.Principal{ID: "bulwark-server", Kind: bulwark.PrincipalSystem}, "run.finish", "run/"+r.ID, nil, "error", r.Reason)
	}
}

// window is the drill window of a run, for the mark-don't-mute notices.
func (m *runManager) window(pr *pendingRun, d *drill.Drill) notify.Window {
	w := notify.Window{ID: pr.ID, Kind: "run", Name: d.Metadata.Name, Type: d.Metadata.Type, Environment: pr.Environment,
		Hosts: pr.Hosts, Systems: []string{pr.System}, StartsAt: m.s.Now().UTC(), By: pr.Submitter.Name}
	w.EndsAt = w.StartsAt.Add(plannedDuration(d))
	return w
}

// changeNotice tells the change system (when one is configured) that a run
// under its ticket started or ended, with the verdict and the report link.
func (m *runManager) changeNotice(pr *pendingRun, event, verdict, report string) {
	if m.s.ChangeGate == nil || pr.Ticket == "" {
		return
	}
	var systems []string
	for _, t := range pr.targets {
		if t.System.Name != "" {
			systems = append(systems, t.System.Name)
		}
	}
	n := policy.Notice{Ticket: pr.Ticket, Event: event, RunID: pr.ID, Verdict: verdict, ReportURL: report,
		Hosts: pr.Hosts, Systems: systems, Time: m.s.Now().UTC()}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.s.ChangeGate.Notify(ctx, n); err != nil {
		m.s.Logger.Warn("change gate notice failed", "ticket", pr.Ticket, "event", event, "err", err)
	}
}
