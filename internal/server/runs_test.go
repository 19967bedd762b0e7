package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/approval"
	"github.com/bulwarkhq/bulwark/internal/auth"
	"github.com/bulwarkhq/bulwark/internal/calendar"
	"github.com/bulwarkhq/bulwark/internal/policy"
	"github.com/bulwarkhq/bulwark/internal/server"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

// prodDrill faults one production host of order-gateway; its probe is a
// tcp check of a listener the test owns.
func prodDrill(addr string) string {
	return `apiVersion: bulwark/v1
kind: Drill
metadata:
  name: og-hang
  system: order-gateway
  environment: production
  change: { ticket: CHG-9 }
spec:
  before: 1s
  settle: 1s
  steadyState:
    - name: api
      tcp: { address: "` + addr + `" }
      from: local
      interval: 100ms
      tolerance: { minSuccessRate: 0.9, minSamples: 3 }
  steps:
    - name: hang
      fault: process.hang
      params: { pid: 4242 }
      select: { labels: { unit: og-api, zone: sh-a } }
      duration: 1s
  blastRadius: { maxHosts: 1 }
`
}

const testCalendar = `apiVersion: bulwark/v1
kind: Calendar
metadata: { name: test }
spec:
  timeZone: UTC
  validThrough: 2099-12-31T23:59:59Z
`

// person creates a local user with role on scope and returns a token
// issued to them (a person, unlike an automation account).
func (h *harness) person(name string, role bulwark.Role, scope bulwark.Scope) (string, string) {
	h.t.Helper()
	ctx := context.Background()
	u, _, err := h.auth.CreateLocalUser(ctx, auth.NewLocalUser{Name: name, Password: "correct horse battery staple"})
	if err != nil {
		h.t.Fatal(err)
	}
	if code := h.do("POST", "/api/v1/rolebindings", adminToken, map[string]any{"subject": u.ID, "role": role, "scope": scope}, nil); code != http.StatusCreated {
		h.t.Fatalf("bind %s: %d", name, code)
	}
	iss, err := h.auth.IssueUserToken(ctx, u.ID, name+"-cli", time.Hour)
	if err != nil {
		h.t.Fatal(err)
	}
	return iss.Secret, u.ID
}

func TestProductionRunWaitsForASecondPersonsApproval(t *testing.T) {
	changes := &changeRecorder{}
	h := newHarness(t, func(h *harness, db *sqlite.DB) {
		h.srv.ChangeGate = changes
		approvals := sqlite.NewApprovalStore(db)
		h.srv.Approvals = approvals
		h.srv.RunStore = sqlite.NewRunStore(db)
		// A calendar with no sessions: the run's interval is never in a
		// blackout, whatever the hour the test runs at.
		cal, err := calendar.Parse("test.yaml", []byte(testCalendar))
		if err != nil {
			t.Fatal(err)
		}
		h.srv.Gate = server.PolicyGate{Gate: &policy.Gate{Calendars: map[string]*calendar.Calendar{"test": cal}, DefaultCalendar: "test",
			ChangeGate: changes, Approvals: &approval.Checker{Store: approvals, Rules: approval.Rules{Roles: h.auth}}}}
	})
	h.importSample()
	ln := httptest.NewServer(http.NotFoundHandler()) // the steady state's tcp target
	defer ln.Close()
	drillFile := prodDrill(strings.TrimPrefix(ln.URL, "http://"))

	sys := bulwark.Scope{Kind: bulwark.ScopeSystem, Name: "order-gateway"}
	alice, _ := h.person("alice", bulwark.RoleOperator, sys)
	if code := h.do("POST", "/api/v1/rolebindings", adminToken, map[string]any{"subject": "alice", "role": bulwark.RoleApprover, "scope": sys}, nil); code != http.StatusCreated {
		t.Fatalf("alice approver: %d", code)
	}
	bob, _ := h.person("bob", bulwark.RoleApprover, sys)
	carol, _ := h.person("carol", bulwark.RoleApprover, bulwark.Scope{Kind: bulwark.ScopeSystem, Name: "quotes"})

	var v struct {
		Submission struct {
			ID, State, RunID string
			Approvers        []string
			Reasons          []string
		}
		Run *bulwark.Run
	}
	code := h.do("POST", "/api/v1/runs?name=og-hang.yaml", alice, drillFile, &v)
	if code != http.StatusAccepted {
		var e apiError
		h.do("POST", "/api/v1/runs?name=og-hang.yaml", alice, drillFile, &e)
		t.Logf("error: %+v", e)
	}
	if code != http.StatusAccepted || v.Submission.State != server.SubmissionAwaitingApproval {
		t.Fatalf("submit: %d %+v", code, v.Submission)
	}
	id := v.Submission.ID
	var e apiError
	if code := h.do("POST", "/api/v1/runs/"+id+"/approve", alice, nil, &e); code != http.StatusForbidden || !strings.Contains(e.Error.Message, "submitted") {
		t.Fatalf("self-approval: %d %+v", code, e)
	}
	if code := h.do("POST", "/api/v1/runs/"+id+"/approve", carol, nil, &e); code != http.StatusForbidden {
		t.Fatalf("approval by an approver of another system: %d %+v", code, e)
	}
	var acctOut struct{ Token string }
	if code := h.do("POST", "/api/v1/tokens", bob, map[string]any{"name": "bob-bot", "role": bulwark.RoleApprover, "scope": sys}, &acctOut); code != http.StatusCreated {
		t.Fatalf("bob's automation account: %d", code)
	}
	acct := acctOut.Token
	if code := h.do("POST", "/api/v1/runs/"+id+"/approve", acct, nil, &e); code != http.StatusForbidden || !strings.Contains(e.Error.Message, "person") {
		t.Fatalf("approval by a token-only account: %d %+v", code, e)
	}
	if code := h.do("POST", "/api/v1/runs/"+id+"/approve", bob, map[string]any{"validFor": "1s"}, &e); code != http.StatusBadRequest || !strings.Contains(e.Error.Message, "does not cover the run's planned") {
		t.Fatalf("an approval shorter than the run: %d %+v", code, e)
	}
	code = h.do("POST", "/api/v1/runs/"+id+"/approve", bob, nil, &v)
	if code != http.StatusCreated || v.Submission.State != server.SubmissionStarted || v.Submission.RunID == "" {
		t.Fatalf("approval by bob: %d %+v", code, v.Submission)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		h.do("GET", "/api/v1/runs/"+id, alice, nil, &v)
		if v.Run != nil && v.Run.State == bulwark.RunFinished {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run did not finish: %+v", v.Run)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v.Run.Verdict != bulwark.VerdictPassed {
		t.Fatalf("verdict %s (%s), want passed", v.Run.Verdict, v.Run.Reason)
	}
	resp, err := http.Get(h.http.URL + "/api/v1/runs/" + id + "/report?format=junit")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("report without a token: %d", resp.StatusCode)
	}
	if code := h.do("GET", "/api/v1/runs/"+id+"/report?format=md&lang=zh-CN", alice, nil, nil); code != http.StatusOK {
		t.Fatalf("report: %d", code)
	}
	if got := changes.events(); got != "CHG-9:start CHG-9:end:passed" {
		t.Fatalf("change system notices %q", got)
	}
	h.notifier.Close()
	if got := strings.Join(h.notices.events(), " "); got != "drill.window.start//og-api-01 drill.window.end/passed/og-api-01" {
		t.Fatalf("drill-window notices %q", got)
	}
	// The same file, edited, is a new submission that needs a new approval.
	code = h.do("POST", "/api/v1/runs", alice, strings.Replace(drillFile, "duration: 1s", "duration: 2s", 1), &v)
	if code != http.StatusAccepted {
		t.Fatalf("edited drill: %d %+v, want 202 (the approval bound the old SHA-256)", code, v.Submission)
	}
}

func TestRunInABlackoutIsRefusedWithTheCalendarsReason(t *testing.T) {
	expired := strings.Replace(testCalendar, "2099-12-31T23:59:59Z", "2020-12-31T23:59:59Z", 1)
	h := newHarness(t, func(h *harness, db *sqlite.DB) {
		h.srv.RunStore = sqlite.NewRunStore(db)
		h.srv.Approvals = sqlite.NewApprovalStore(db)
		cal, err := calendar.Parse("expired.yaml", []byte(expired))
		if err != nil {
			t.Fatal(err)
		}
		h.srv.Gate = server.PolicyGate{Gate: &policy.Gate{Calendars: map[string]*calendar.Calendar{"test": cal}, DefaultCalendar: "test"}}
	})
	h.importSample()
	sys := bulwark.Scope{Kind: bulwark.ScopeSystem, Name: "order-gateway"}
	alice, _ := h.person("alice", bulwark.RoleOperator, sys)
	var e apiError
	code := h.do("POST", "/api/v1/runs", alice, prodDrill("127.0.0.1:1"), &e)
	if code != http.StatusForbidden || !strings.Contains(e.Error.Message, "validThrough") && !strings.Contains(e.Error.Message, "blackout") {
		t.Fatalf("run after the calendar's validThrough: %d %+v, want 403 naming the blackout", code, e)
	}
	t.Log(e.Error.Message)
}

// changeRecorder is a change system that approves everything and records
// the notices it gets.
type changeRecorder struct {
	mu      sync.Mutex
	notices []policy.Notice
}

func (c *changeRecorder) Check(_ context.Context, q policy.TicketQuery) (policy.TicketAnswer, error) {
	return policy.TicketAnswer{Approved: true, WindowStart: q.Start.Add(-time.Hour), WindowEnd: q.End.Add(time.Hour), Hosts: q.Hosts}, nil
}

func (c *changeRecorder) Notify(_ context.Context, n policy.Notice) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notices = append(c.notices, n)
	return nil
}

func (c *changeRecorder) events() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, n := range c.notices {
		e := n.Ticket + ":" + n.Event
		if n.Verdict != "" {
			e += ":" + n.Verdict
		}
		out = append(out, e)
	}
	return strings.Join(out, " ")
}

func TestHaltAbortsARunningDrill(t *testing.T) {
	h := newHarness(t, func(h *harness, db *sqlite.DB) {
		h.srv.RunStore = sqlite.NewRunStore(db)
	})
	h.importSample()
	// A second instance of q-feed: one of two may be faulted (N−1).
	if _, err := h.inv.PutHost(context.Background(), bulwark.InventoryHost{Hostname: "q-feed-sim-02", System: "quotes", Unit: "q-feed", Environment: "simulation"}); err != nil {
		t.Fatal(err)
	}
	ln := httptest.NewServer(http.NotFoundHandler())
	defer ln.Close()
	drillFile := `apiVersion: bulwark/v1
kind: Drill
metadata: { name: long, system: quotes, environment: simulation }
spec:
  before: 1s
  settle: 1s
  steadyState:
    - name: api
      tcp: { address: "` + strings.TrimPrefix(ln.URL, "http://") + `" }
      from: local
      interval: 100ms
  steps:
    - fault: process.hang
      params: { pid: 4242 }
      duration: 5m
`
	var v struct {
		Submission struct{ ID, State string }
		Run        *bulwark.Run
	}
	if code := h.do("POST", "/api/v1/runs", adminToken, drillFile, &v); code != http.StatusCreated {
		var e apiError
		h.do("POST", "/api/v1/runs", adminToken, drillFile, &e)
		t.Fatalf("submit: %d %+v %+v", code, v, e)
	}
	id := v.Submission.ID
	waitRun := func(done func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !done() {
			if time.Now().After(deadline) {
				t.Fatalf("run %s: %+v", id, v.Run)
			}
			time.Sleep(50 * time.Millisecond)
			h.do("GET", "/api/v1/runs/"+id, adminToken, nil, &v)
		}
	}
	waitRun(func() bool {
		return v.Run != nil && v.Run.State == bulwark.RunRunning && h.fleet.live("agent-q-feed-sim-01")+h.fleet.live("agent-q-feed-sim-02") == 1
	})
	if code := h.do("POST", "/api/v1/halt", adminToken, map[string]string{"system": "quotes"}, nil); code != http.StatusOK {
		t.Fatalf("halt: %d", code)
	}
	waitRun(func() bool { return v.Run != nil && v.Run.State == bulwark.RunFinished })
	if v.Run.Verdict != bulwark.VerdictAborted || !strings.Contains(v.Run.Reason, "halted") {
		t.Fatalf("verdict %s (%s), want aborted by the halt", v.Run.Verdict, v.Run.Reason)
	}
}

func TestAWaitingRunOutlivesARestart(t *testing.T) {
	var db *sqlite.DB
	var gate server.Gate
	h := newHarness(t, func(h *harness, d *sqlite.DB) {
		db = d
		approvals := sqlite.NewApprovalStore(d)
		h.srv.Approvals, h.srv.RunStore, h.srv.Submissions = approvals, sqlite.NewRunStore(d), sqlite.NewSubmissionStore(d)
		cal, err := calendar.Parse("test.yaml", []byte(testCalendar))
		if err != nil {
			t.Fatal(err)
		}
		gate = server.PolicyGate{Gate: &policy.Gate{Calendars: map[string]*calendar.Calendar{"test": cal}, DefaultCalendar: "test",
			ChangeGate: &changeRecorder{}, Approvals: &approval.Checker{Store: approvals, Rules: approval.Rules{Roles: h.auth}}}}
		h.srv.Gate = gate
	})
	h.importSample()
	ln := httptest.NewServer(http.NotFoundHandler())
	defer ln.Close()
	sys := bulwark.Scope{Kind: bulwark.ScopeSystem, Name: "order-gateway"}
	alice, _ := h.person("alice", bulwark.RoleOperator, sys)
	bob, _ := h.person("bob", bulwark.RoleApprover, sys)
	var v struct {
		Submission struct{ ID, State, RunID string }
		Run        *bulwark.Run
	}
	if code := h.do("POST", "/api/v1/runs", alice, prodDrill(strings.TrimPrefix(ln.URL, "http://")), &v); code != http.StatusAccepted {
		t.Fatalf("submit: %d", code)
	}
	id := v.Submission.ID

	// A new server process on the same database.
	again := &server.Server{Inventory: h.inv, Auth: h.auth, Principal: auth.FromContext, Fleet: h.fleet, Gate: gate,
		RunStore: sqlite.NewRunStore(db), Approvals: sqlite.NewApprovalStore(db), Submissions: sqlite.NewSubmissionStore(db)}
	if err := again.LoadState(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(again.Handler())
	defer srv.Close()
	t.Cleanup(func() { again.Close(context.Background()) })
	h2 := *h
	h2.http = srv
	if code := h2.do("GET", "/api/v1/runs/"+id, alice, nil, &v); code != http.StatusOK || v.Submission.State != server.SubmissionAwaitingApproval {
		t.Fatalf("after the restart: %d %+v", code, v.Submission)
	}
	if code := h2.do("POST", "/api/v1/runs/"+id+"/approve", bob, nil, &v); code != http.StatusCreated || v.Submission.RunID == "" {
		t.Fatalf("approval after the restart: %d %+v", code, v.Submission)
	}
}
