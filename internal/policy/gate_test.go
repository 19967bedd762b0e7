package policy_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/calendar"
	"github.com/bulwarkhq/bulwark/internal/i18n"
	"github.com/bulwarkhq/bulwark/internal/policy"
)

var (
	prodEnv = bulwark.Environment{Name: "production", ProductionClass: true}
	testEnv = bulwark.Environment{Name: "test"}
	trade   = bulwark.System{Name: "trade", OwnerTeam: "equities", Tier: 1}
	quote   = bulwark.System{Name: "quote", OwnerTeam: "market-data", Tier: 1}
	alice   = bulwark.Principal{ID: "u-alice", Name: "alice", Kind: bulwark.PrincipalUser}
	sh      = mustLoc("Asia/Shanghai")
)

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func aShare(t testing.TB) *calendar.Calendar {
	t.Helper()
	c, err := calendar.ParseFile("../../examples/calendars/cn-a-share.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func gate(t testing.TB) *policy.Gate {
	return &policy.Gate{Calendars: map[string]*calendar.Calendar{"cn-a-share": aShare(t)}, DefaultCalendar: "cn-a-share",
		Now: func() time.Time { return time.Date(2026, 3, 3, 8, 0, 0, 0, sh) }}
}

// lunch is Tuesday 3 March 2026 at 11:35 in Shanghai: between the morning
// and afternoon sessions, with room for 10m of fault and 5m of margin.
var lunch = time.Date(2026, 3, 3, 11, 35, 0, 0, sh)

func prodReq(mod func(*policy.Request)) policy.Request {
	r := policy.Request{Principal: alice, Action: policy.ActionFaultInject, Kind: "net.delay",
		Targets: []policy.Target{{HostID: "h1", Environment: prodEnv, System: trade}},
		Params:  map[string]any{"delay": "150ms"},
		Start:   lunch, Duration: 10 * time.Minute, Ticket: "CHG-1", DrillSHA256: strings.Repeat("a", 64)}
	if mod != nil {
		mod(&r)
	}
	return r
}

func codes(rs []policy.Reason) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Code+"@"+r.Field)
	}
	return strings.Join(out, " ")
}

func TestDecideProductionDefaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mod     func(*policy.Request)
		outcome policy.Outcome
		reasons string
	}{
		{"lunch break, within caps: waits for approval", nil, policy.NeedsApproval, "policy.approval.needed@"},
		{"delay over the 200ms cap", func(r *policy.Request) { r.Params["delay"] = "300ms" }, policy.Deny, "policy.param.cap@params.delay"},
		{"delay as a typed duration", func(r *policy.Request) { r.Params["delay"] = bulwark.Duration(250 * time.Millisecond) }, policy.Deny, "policy.param.cap@params.delay"},
		{"delay as a bare number is refused", func(r *policy.Request) { r.Params["delay"] = 100.0 }, policy.Deny, "policy.param.unreadable@params.delay"},
		{"script.run is denied", func(r *policy.Request) { r.Kind = "script.run" }, policy.Deny, "policy.kind.denied@kind"},
		{"two hosts over maxHosts 1", func(r *policy.Request) {
			r.Targets = append(r.Targets, policy.Target{HostID: "h2", Environment: prodEnv, System: trade})
		}, policy.Deny, "policy.hosts.cap@targets"},
		{"15 minutes over the 10m cap", func(r *policy.Request) { r.Duration = 15 * time.Minute; r.Start = lunch.Add(-20 * time.Minute) },
			policy.Deny, "policy.duration.cap@duration policy.calendar.blackout@start"},
		{"tuesday 10:00 is continuous trading", func(r *policy.Request) { r.Start = time.Date(2026, 3, 3, 10, 0, 0, 0, sh) },
			policy.Deny, "policy.calendar.blackout@start"},
		{"recovery margin reaches the afternoon session", func(r *policy.Request) { r.Start = time.Date(2026, 3, 3, 12, 48, 0, 0, sh) },
			policy.Deny, "policy.calendar.blackout@start"},
		{"after validThrough", func(r *policy.Request) { r.Start = time.Date(2027, 1, 9, 12, 0, 0, 0, sh) },
			policy.Deny, "policy.calendar.expired@start"},
		{"no ticket", func(r *policy.Request) { r.Ticket = "" }, policy.Deny, "policy.ticket.missing@ticket"},
		{"no duration", func(r *policy.Request) { r.Duration = 0 }, policy.Deny, "policy.duration.missing@duration"},
		{"unknown action", func(r *policy.Request) { r.Action = "fault.sneak" }, policy.Deny, "policy.request.invalid@action"},
		{"no targets", func(r *policy.Request) { r.Targets = nil }, policy.Deny, "policy.target.none@targets"},
		{"host without environment", func(r *policy.Request) { r.Targets[0].Environment = bulwark.Environment{} },
			policy.Deny, "policy.target.noEnvironment@targets"},
		{"saturday make-up day is outside every session", func(r *policy.Request) { r.Start = time.Date(2026, 2, 14, 10, 0, 0, 0, sh) },
			policy.NeedsApproval, "policy.approval.needed@"},
		{"run.start without a kind", func(r *policy.Request) { r.Action, r.Kind, r.Params = policy.ActionRunStart, "", nil },
			policy.NeedsApproval, "policy.approval.needed@"},
		{"run.step needs a kind", func(r *policy.Request) { r.Action, r.Kind = policy.ActionRunStep, "" },
			policy.Deny, "policy.request.invalid@kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := gate(t).Decide(context.Background(), prodReq(tc.mod))
			if d.Outcome != tc.outcome || codes(d.Reasons) != tc.reasons {
				t.Errorf("got %s [%s], want %s [%s]\n%s", d.Outcome, codes(d.Reasons), tc.outcome, tc.reasons, d.JSON())
			}
			if !d.ProductionClass && len(prodReq(tc.mod).Targets) > 0 && prodReq(tc.mod).Targets[0].Environment.Name != "" {
				t.Error("production-class not set")
			}
		})
	}
}

func TestBlackoutReasonNamesTheSession(t *testing.T) {
	d := gate(t).Decide(context.Background(), prodReq(func(r *policy.Request) { r.Start = time.Date(2026, 3, 3, 10, 0, 0, 0, sh) }))
	if len(d.Reasons) != 1 {
		t.Fatalf("reasons = %v", d.Reasons)
	}
	r := d.Reasons[0]
	if want := "the planned interval touches continuous-am (2026-03-03, 2026-03-03 09:30 CST to 2026-03-03 11:30 CST), a blackout in environment production"; r.Message != want {
		t.Errorf("en = %q\nwant %q", r.Message, want)
	}
	if zh := r.Text(i18n.ZH); !strings.Contains(zh, "封网期") || !strings.Contains(zh, "continuous-am") {
		t.Errorf("zh-CN = %q", zh)
	}
}

func TestApprovalRequirements(t *testing.T) {
	g := gate(t)
	d := g.Decide(context.Background(), prodReq(func(r *policy.Request) {
		r.Action, r.Kind, r.Params = policy.ActionRunStart, "", nil
		r.Targets = []policy.Target{{HostID: "h1", Environment: prodEnv, System: trade}, {HostID: "h2", Environment: prodEnv, System: quote}}
	}))
	// maxHosts 1 applies to a whole run too.
	if d.Outcome != policy.Deny {
		t.Fatalf("two hosts in a run: %s", d.JSON())
	}
	d = g.Decide(context.Background(), prodReq(func(r *policy.Request) {
		r.Targets = append(r.Targets, policy.Target{HostID: "t1", Environment: testEnv, System: quote})
	}))
	want := []policy.Requirement{{Role: bulwark.RoleApprover, Scope: bulwark.Scope{Kind: bulwark.ScopeSystem, Name: "trade"}, Count: 1}}
	if d.Outcome != policy.NeedsApproval || len(d.Approvers) != 1 || d.Approvers[0] != want[0] {
		t.Errorf("mixed environments: %s", d.JSON())
	}
	if strings.Join(d.Policies, ",") != "builtin-production,builtin-other" {
		t.Errorf("policies = %v", d.Policies)
	}
}

type fakeApprovals struct {
	missing []policy.Requirement
	err     error
	calls   int
}

func (f *fakeApprovals) Missing(_ context.Context, _ policy.Request, _ bulwark.Environment, need []policy.Requirement) ([]policy.Requirement, error) {
	f.calls++
	if f.missing == nil && f.err == nil {
		return nil, nil
	}
	return f.missing, f.err
}

func TestApprovalChecker(t *testing.T) {
	g := gate(t)
	fa := &fakeApprovals{}
	g.Approvals = fa
	d := g.Decide(context.Background(), prodReq(nil))
	if d.Outcome != policy.Allow || codes(d.Notes) != "policy.ticket.unverified@ticket policy.approval.satisfied@" {
		t.Errorf("approved: %s", d.JSON())
	}
	fa.err = errors.New("database is locked")
	if d := g.Decide(context.Background(), prodReq(nil)); d.Outcome != policy.Deny || codes(d.Reasons) != "policy.approval.checkFailed@" {
		t.Errorf("checker error: %s", d.JSON())
	}
	// Denied requests never reach the approval store.
	calls := fa.calls
	g.Decide(context.Background(), prodReq(func(r *policy.Request) { r.Kind = "script.run" }))
	if fa.calls != calls {
		t.Error("approvals were checked for a denied request")
	}
}

func TestProductionWithoutCalendarIsDenied(t *testing.T) {
	g := &policy.Gate{}
	d := g.Decide(context.Background(), prodReq(nil))
	if d.Outcome != policy.Deny || codes(d.Reasons) != "policy.calendar.none@start" {
		t.Errorf("%s", d.JSON())
	}
	g.DefaultCalendar = "nyse"
	d = g.Decide(context.Background(), prodReq(nil))
	if d.Outcome != policy.Deny || codes(d.Reasons) != "policy.calendar.missing@start" {
		t.Errorf("%s", d.JSON())
	}
}

func TestNonProductionDefaults(t *testing.T) {
	g := &policy.Gate{}
	req := policy.Request{Principal: alice, Action: policy.ActionFaultInject, Kind: "script.run",
		Targets: []policy.Target{{HostID: "t1", Environment: testEnv, System: trade}}, Start: lunch, Duration: time.Hour}
	if d := g.Decide(context.Background(), req); d.Outcome != policy.Allow || d.ProductionClass {
		t.Errorf("test env: %s", d.JSON())
	}
	req.Duration = 5 * time.Hour
	if d := g.Decide(context.Background(), req); d.Outcome != policy.Deny || codes(d.Reasons) != "policy.duration.cap@duration" {
		t.Errorf("test env, 5h: %s", d.JSON())
	}
	// Production-class comes from the server-owned environment, whatever
	// the environment is called.
	req.Duration = time.Minute
	req.Targets[0].Environment = bulwark.Environment{Name: "test", ProductionClass: true}
	if d := g.Decide(context.Background(), req); d.Outcome != policy.Deny || !d.ProductionClass {
		t.Errorf("production-class test env: %s", d.JSON())
	}
}

func TestDecisionJSON(t *testing.T) {
	d := gate(t).Decide(context.Background(), prodReq(func(r *policy.Request) { r.Params["delay"] = "300ms" }))
	var m map[string]any
	if err := json.Unmarshal(d.JSON(), &m); err != nil {
		t.Fatal(err)
	}
	b := string(d.JSON())
	for _, want := range []string{
		`{"outcome":"deny","reasons":[{"code":"policy.param.cap","message":"parameter delay = 300ms exceeds the cap of environment production (200ms)","field":"params.delay","args":["delay","300ms","production","200ms"]}]`,
		`"action":"fault.inject","principal":"u-alice","kind":"net.delay","productionClass":true,"policies":["builtin-production"],"start":"2026-03-03T03:35:00Z","end":"2026-03-03T03:50:00Z"`,
		`"decidedAt":"2026-03-03T00:00:00Z"}`,
	} {
		if !strings.Contains(b, want) {
			t.Errorf("decision JSON lacks\n%s\nin\n%s", want, b)
		}
	}
	if string(d.JSON()) != b {
		t.Error("JSON is not stable")
	}
}

func TestLocalGate(t *testing.T) {
	g := gate(t)
	g.Local = true
	// The agent allows what only the server can approve…
	if d := g.Decide(context.Background(), prodReq(func(r *policy.Request) { r.Ticket = "" })); d.Outcome != policy.Allow {
		t.Errorf("local, lunch: %s", d.JSON())
	}
	// …and refuses a blackout, an expired calendar and a cap on its own.
	for name, mod := range map[string]func(*policy.Request){
		"blackout": func(r *policy.Request) { r.Start = time.Date(2026, 3, 3, 10, 0, 0, 0, sh) },
		"expired":  func(r *policy.Request) { r.Start = time.Date(2027, 1, 9, 12, 0, 0, 0, sh) },
		"cap":      func(r *policy.Request) { r.Params["delay"] = "1s" },
	} {
		if d := g.Decide(context.Background(), prodReq(mod)); d.Outcome != policy.Deny {
			t.Errorf("local, %s: %s", name, d.JSON())
		}
	}
}

func TestProductionAlwaysNeedsApproval(t *testing.T) {
	p, err := policy.Parse("p.yaml", []byte(`apiVersion: bulwark/v1
kind: Policy
metadata: { name: lax }
spec:
  environments: [production]
  approvals: { count: 0 }
  calendar: { name: cn-a-share }
`))
	if err != nil {
		t.Fatal(err)
	}
	g := gate(t)
	if g.Policies, err = policy.NewSet(p); err != nil {
		t.Fatal(err)
	}
	d := g.Decide(context.Background(), prodReq(nil))
	if d.Outcome != policy.NeedsApproval || len(d.Approvers) != 1 || d.Approvers[0].Count != 1 {
		t.Errorf("production with approvals 0: %s", d.JSON())
	}
}
