package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/auth"
	_ "github.com/bulwarkhq/bulwark/internal/fault/process" // process.hang, the kind these tests inject
	"github.com/bulwarkhq/bulwark/internal/notify"
	"github.com/bulwarkhq/bulwark/internal/server"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
	"github.com/bulwarkhq/bulwark/internal/store/storetest"
)

const adminToken = "bwk_test-admin-token-0123456789abcdefghijklmnop"

// harness is a server on a real SQLite store with the real auth service;
// the fleet and the gate are test doubles (this file tests the API's own
// logic; the agent gateway and the policy gate have their own suites and an
// end-to-end test in cmd/bulwark).
type harness struct {
	t     *testing.T
	srv   *server.Server
	http  *httptest.Server
	fleet *fakeFleet
	gate  *fakeGate
	inv   bulwark.InventoryService
	auth  *auth.Service

	notices  *noticeSink
	notifier *notify.Notifier
}

// noticeSink is a webhook receiving drill-window notices.
type noticeSink struct {
	mu  sync.Mutex
	got []notify.Notice
}

func (n *noticeSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var notice notify.Notice
	_ = json.NewDecoder(r.Body).Decode(&notice)
	n.mu.Lock()
	n.got = append(n.got, notice)
	n.mu.Unlock()
}

func (n *noticeSink) events() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, x := range n.got {
		out = append(out, x.Event+"/"+x.Reason+"/"+strings.Join(x.Window.Hosts, ","))
	}
	return out
}

type systems struct{ inv bulwark.InventoryService }

func (s systems) System(ctx context.Context, name string) (bulwark.System, error) {
	return s.inv.FindSystem(ctx, name)
}

func newHarness(t *testing.T, opts ...func(*harness, *sqlite.DB)) *harness {
	t.Helper()
	db := sqlite.NewDB(t.TempDir() + "/bulwark.db")
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	inv := sqlite.NewInventoryService(db)
	a, err := auth.New(auth.Config{Store: sqlite.NewAuthStore(db), Systems: systems{inv}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Bootstrap(context.Background(), adminToken); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, fleet: &fakeFleet{}, gate: &fakeGate{outcome: server.OutcomeAllow}, inv: inv, auth: a}
	h.notices = &noticeSink{}
	hook := httptest.NewServer(h.notices)
	t.Cleanup(hook.Close)
	h.notifier = notify.New([]notify.Webhook{{URL: hook.URL}}, notify.Options{Backoff: time.Millisecond})
	t.Cleanup(h.notifier.Close) // before hook.Close: cleanups run last-in first-out
	h.srv = &server.Server{Inventory: inv, Auth: a, Principal: auth.FromContext, Fleet: h.fleet, Gate: h.gate, Notify: h.notifier}
	for _, o := range opts {
		o(h, db)
	}
	h.http = httptest.NewServer(h.srv.Handler())
	t.Cleanup(h.http.Close)
	t.Cleanup(func() { h.srv.Close(context.Background()) }) // runs stop before the database closes
	return h
}

// do sends a request with token (none when empty) and decodes the JSON
// answer into out (when not nil); it returns the status.
func (h *harness) do(method, path, token string, body any, out any) int {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, h.http.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			h.t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

// token creates an automation account with role on scope, as the admin.
func (h *harness) token(role bulwark.Role, scope bulwark.Scope) string {
	h.t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	if code := h.do("POST", "/api/v1/tokens", adminToken, map[string]any{"name": "t-" + string(role) + "-" + scope.Name, "role": role, "scope": scope}, &out); code != http.StatusCreated {
		h.t.Fatalf("create token: %d", code)
	}
	return out.Token
}

func (h *harness) importSample() {
	h.t.Helper()
	if _, err := h.inv.Import(context.Background(), storetest.SampleInventory()); err != nil {
		h.t.Fatal(err)
	}
	for _, host := range storetest.SampleInventory().Hosts {
		h.fleet.add(server.FleetAgent{ID: "agent-" + host.Hostname, Hostname: host.Hostname, Status: server.AgentConnected,
			Labels: host.ReservedLabels()})
	}
}

type apiError struct {
	Error struct{ Code, Message string } `json:"error"`
}

func TestUnauthenticated(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/api/v1/systems", "/api/v1/hosts", "/api/v1/halt", "/api/v1/agents"} {
		var e apiError
		if code := h.do("GET", path, "", nil, &e); code != http.StatusUnauthorized || e.Error.Code != "unauthorized" {
			t.Errorf("GET %s without a token: %d %+v, want 401 unauthorized", path, code, e)
		}
		if code := h.do("GET", path, "bwk_not-a-real-token-000000000000000000000", nil, nil); code != http.StatusUnauthorized {
			t.Errorf("GET %s with a bad token: %d, want 401", path, code)
		}
	}
	if code := h.do("POST", "/api/v1/faults", "", `{}`, nil); code != http.StatusUnauthorized {
		t.Errorf("POST /api/v1/faults without a token: %d", code)
	}
	if code := h.do("GET", "/api/v1/openapi.json", "", nil, nil); code != http.StatusOK {
		t.Errorf("openapi.json: %d", code)
	}
}

func TestInventoryImportAndScopes(t *testing.T) {
	h := newHarness(t)
	doc := `apiVersion: bulwark/v1
kind: Inventory
environments: [{ name: production, productionClass: true }, { name: simulation }]
systems: [{ name: order-gateway, ownerTeam: sre-trading, tier: 1 }, { name: quotes, ownerTeam: market-data, tier: 2 }]
units: [{ name: og-api, system: order-gateway }, { name: q-feed, system: quotes }]
hosts:
  - { hostname: og-api-01, system: order-gateway, unit: og-api, environment: production }
  - { hostname: q-01, system: quotes, unit: q-feed, environment: simulation }
`
	viewer := h.token(bulwark.RoleViewer, bulwark.Scope{Kind: bulwark.ScopeSystem, Name: "quotes"})
	if code := h.do("POST", "/api/v1/inventory/import", viewer, doc, nil); code != http.StatusForbidden {
		t.Fatalf("import by a viewer: %d, want 403", code)
	}
	var res bulwark.ImportResult
	if code := h.do("POST", "/api/v1/inventory/import", adminToken, doc, &res); code != http.StatusOK || res.Hosts != 2 {
		t.Fatalf("import: %d %+v", code, res)
	}
	var e apiError
	if code := h.do("POST", "/api/v1/inventory/import?name=cmdb.yaml", adminToken, strings.Replace(doc, "tier: 2", "tier: 7", 1), &e); code != http.StatusBadRequest || !strings.Contains(e.Error.Message, "cmdb.yaml") {
		t.Fatalf("bad import: %d %+v", code, e)
	}
	var hosts struct{ Hosts []bulwark.InventoryHost }
	h.do("GET", "/api/v1/hosts", viewer, nil, &hosts)
	if len(hosts.Hosts) != 1 || hosts.Hosts[0].Hostname != "q-01" {
		t.Fatalf("a quotes viewer sees %+v, want only q-01", hosts.Hosts)
	}
	if code := h.do("GET", "/api/v1/systems/order-gateway", viewer, nil, nil); code != http.StatusForbidden {
		t.Fatalf("viewer of quotes reading order-gateway: %d, want 403", code)
	}
	if code := h.do("PUT", "/api/v1/systems/quotes", viewer, map[string]any{"ownerTeam": "x", "tier": 1}, nil); code != http.StatusForbidden {
		t.Fatalf("viewer writing a system: %d, want 403", code)
	}
	if code := h.do("PUT", "/api/v1/environments/staging", adminToken, map[string]any{"productionClass": false}, nil); code != http.StatusOK {
		t.Fatalf("admin PUT environment: %d", code)
	}
}

func TestFaultsPolicyHaltAndBlastRadius(t *testing.T) {
	h := newHarness(t)
	h.importSample()
	op := h.token(bulwark.RoleOperator, bulwark.Scope{Kind: bulwark.ScopeSystem, Name: "order-gateway"})
	req := func(sel map[string]string) map[string]any {
		return map[string]any{"kind": "process.hang", "params": map[string]any{"pid": 4242}, "duration": "60s",
			"select": map[string]any{"labels": sel, "mode": "all"}, "change": map[string]any{"ticket": "CHG-1"}}
	}
	var out struct {
		Faults []struct{ ID, Agent, Hostname, State string }
	}
	var e apiError
	viewer := h.token(bulwark.RoleViewer, bulwark.Scope{Kind: bulwark.ScopeGlobal})
	if code := h.do("POST", "/api/v1/faults", viewer, req(map[string]string{"rack": "nowhere"}), &e); code != http.StatusForbidden {
		t.Fatalf("a viewer's inject, selecting nothing: %d %+v, want 403 before the selection", code, e)
	}
	// Both og-api hosts are the whole unit: refused, never truncated.
	if code := h.do("POST", "/api/v1/faults", op, req(map[string]string{"unit": "og-api"}), &e); code != http.StatusForbidden || !strings.Contains(e.Error.Message, "blast radius") {
		t.Fatalf("whole unit: %d %+v", code, e)
	}
	if code := h.do("POST", "/api/v1/faults", op, req(map[string]string{"system": "quotes"}), &e); code != http.StatusForbidden {
		t.Fatalf("operator of order-gateway faulting quotes: %d %+v", code, e)
	}
	code := h.do("POST", "/api/v1/faults", op, req(map[string]string{"unit": "og-api", "zone": "sh-a"}), &out)
	if code != http.StatusCreated || len(out.Faults) != 1 || out.Faults[0].State != "active" || out.Faults[0].Hostname != "og-api-01" {
		t.Fatalf("inject: %d %+v", code, out)
	}
	if got := h.gate.last(); got.Action != server.ActionFaultInject || got.Ticket != "CHG-1" || len(got.Targets) != 1 || !got.Targets[0].Environment.ProductionClass {
		t.Fatalf("gate saw %+v", got)
	}
	h.gate.set(server.OutcomeNeedsApproval)
	if code := h.do("POST", "/api/v1/faults", op, req(map[string]string{"unit": "og-api", "zone": "sh-a"}), &e); code != http.StatusConflict || !strings.Contains(e.Error.Message, "needs approval") {
		t.Fatalf("needs approval: %d %+v", code, e)
	}
	h.gate.set(server.OutcomeAllow)
	if code := h.do("POST", "/api/v1/faults", op, `{"kind":"process.hang","params":{"pid":4242},"duration":"60s","select":{"labels":{"unit":"og-api"}},"bogus":1}`, &e); code != http.StatusBadRequest || !strings.Contains(e.Error.Message, "bogus") {
		t.Fatalf("unknown field: %d %+v", code, e)
	}
	if code := h.do("POST", "/api/v1/faults", op, map[string]any{"kind": "process.hang", "params": map[string]any{"pid": -3}, "duration": "60s", "select": map[string]any{"labels": map[string]string{"unit": "og-api"}}}, &e); code != http.StatusBadRequest || !strings.Contains(e.Error.Message, "pid") {
		t.Fatalf("bad param: %d %+v", code, e)
	}

	// Halt the system: the fleet is told, new faults are refused until resumed.
	var halt struct {
		Recovered   []server.FaultReport
		NotAnswered []string
	}
	if code := h.do("POST", "/api/v1/halt", op, map[string]string{"system": "order-gateway"}, &halt); code != http.StatusOK {
		t.Fatalf("halt: %d", code)
	}
	if len(halt.Recovered) != 1 || len(h.fleet.halted) != 2 {
		t.Fatalf("halt recovered %+v, fleet halted %v; want the one fault on both og-api agents", halt.Recovered, h.fleet.halted)
	}
	if code := h.do("POST", "/api/v1/faults", op, req(map[string]string{"unit": "og-api", "zone": "sh-a"}), &e); code != http.StatusConflict || !strings.Contains(e.Error.Message, "halted") {
		t.Fatalf("inject while halted: %d %+v", code, e)
	}
	h.notifier.Close() // deliver what is queued
	want := []string{"drill.window.start//og-api-01", "drill.window.end/halted/og-api-01"}
	if got := h.notices.events(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("drill-window notices %q, want %q", got, want)
	}
	if code := h.do("DELETE", "/api/v1/halt?system=order-gateway", op, nil, nil); code != http.StatusOK {
		t.Fatalf("resume: %d", code)
	}
	if code := h.do("POST", "/api/v1/faults", op, req(map[string]string{"unit": "og-api", "zone": "sh-a"}), &out); code != http.StatusCreated {
		t.Fatalf("inject after resume: %d", code)
	}
}

func TestMetricsAndOpenAPI(t *testing.T) {
	h := newHarness(t)
	var doc map[string]any
	if code := h.do("GET", "/api/v1/openapi.json", "", nil, &doc); code != http.StatusOK || doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi: %d %v", code, doc["openapi"])
	}
	req, _ := http.NewRequest("GET", h.http.URL+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "bulwark_http_requests_total") {
		t.Fatalf("metrics lack bulwark_http_requests_total:\n%.500s", body)
	}
}

// fakeFleet holds agents in memory; faults become active at once.
type fakeFleet struct {
	mu     sync.Mutex
	agents []server.FleetAgent
	faults map[string][]server.DesiredFault
	halted []string
}

func (f *fakeFleet) add(a server.FleetAgent) { f.agents = append(f.agents, a) }

// live counts the faults the fleet holds on an agent.
func (f *fakeFleet) live(agentID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.faults[agentID])
}

func (f *fakeFleet) Agents(context.Context) ([]server.FleetAgent, error) { return f.agents, nil }

func (f *fakeFleet) Select(_ context.Context, sel bulwark.Selector) ([]server.FleetAgent, error) {
	var out []server.FleetAgent
	for _, a := range f.agents {
		ok := true
		for k, v := range sel.Labels {
			ok = ok && a.Labels[k] == v
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

func (f *fakeFleet) AddFaults(_ context.Context, agentID string, faults []server.DesiredFault) ([]server.FaultReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.faults == nil {
		f.faults = map[string][]server.DesiredFault{}
	}
	f.faults[agentID] = append(f.faults[agentID], faults...)
	var out []server.FaultReport
	for _, d := range faults {
		exp := time.Now().Add(d.Duration)
		out = append(out, server.FaultReport{ID: d.ID, AgentID: agentID, State: bulwark.StateActive, Fault: &bulwark.Fault{ID: d.ID, ExpiresAt: &exp}})
	}
	return out, nil
}

func (f *fakeFleet) RemoveFaults(_ context.Context, agentID string, ids []string) ([]server.FaultReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []server.FaultReport
	keep := f.faults[agentID][:0]
	for _, d := range f.faults[agentID] {
		if contains(ids, d.ID) {
			now := time.Now()
			out = append(out, server.FaultReport{ID: d.ID, AgentID: agentID, State: bulwark.StateRecovered,
				Fault: &bulwark.Fault{ID: d.ID, Kind: d.Kind, State: bulwark.StateRecovered, EndedAt: &now}})
			continue
		}
		keep = append(keep, d)
	}
	f.faults[agentID] = keep
	return out, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func (f *fakeFleet) Halt(_ context.Context, match func(server.FleetAgent) bool, _ time.Duration) (server.HaltReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rep := server.HaltReport{}
	for _, a := range f.agents {
		if !match(a) {
			continue
		}
		rep.Agents++
		f.halted = append(f.halted, a.ID)
		for _, d := range f.faults[a.ID] {
			rep.Recovered = append(rep.Recovered, server.FaultReport{ID: d.ID, AgentID: a.ID, State: bulwark.StateRecovered})
		}
		delete(f.faults, a.ID)
	}
	return rep, nil
}

type fakeGate struct {
	mu      sync.Mutex
	outcome string
	reqs    []server.GateRequest
}

func (g *fakeGate) set(o string) { g.mu.Lock(); g.outcome = o; g.mu.Unlock() }

func (g *fakeGate) last() server.GateRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.reqs[len(g.reqs)-1]
}

func (g *fakeGate) Decide(_ context.Context, req server.GateRequest) (server.GateDecision, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reqs = append(g.reqs, req)
	d := server.GateDecision{Outcome: g.outcome}
	if g.outcome == server.OutcomeNeedsApproval {
		d.Approvers = []string{"approver of order-gateway"}
		d.Reasons = []string{"production-class environment"}
	}
	return d, nil
}

func TestAgentOutsideTheInventory(t *testing.T) {
	h := newHarness(t)
	h.importSample()
	h.fleet.add(server.FleetAgent{ID: "agent-stray", Hostname: "stray-01", Status: server.AgentConnected,
		Labels: map[string]string{"env": "simulation", "rack": "u1"}})
	body := map[string]any{"kind": "process.hang", "params": map[string]any{"pid": 4242}, "duration": "30s",
		"select": map[string]any{"labels": map[string]string{"rack": "u1"}, "mode": "all"}}
	sysOp := h.token(bulwark.RoleOperator, bulwark.Scope{Kind: bulwark.ScopeSystem, Name: "quotes"})
	if code := h.do("POST", "/api/v1/faults", sysOp, body, nil); code != http.StatusForbidden {
		t.Fatalf("a system operator faulting a host of no system: %d, want 403", code)
	}
	viewer := h.token(bulwark.RoleViewer, bulwark.Scope{Kind: bulwark.ScopeEnvironment, Name: "simulation"})
	if code := h.do("POST", "/api/v1/faults", viewer, body, nil); code != http.StatusForbidden {
		t.Fatalf("a viewer injecting: %d, want 403", code)
	}
	envOp := h.token(bulwark.RoleOperator, bulwark.Scope{Kind: bulwark.ScopeEnvironment, Name: "simulation"})
	var out struct {
		Faults []struct{ Hostname, State string }
	}
	if code := h.do("POST", "/api/v1/faults", envOp, body, &out); code != http.StatusCreated || len(out.Faults) != 1 || out.Faults[0].Hostname != "stray-01" {
		t.Fatalf("an operator of simulation: %d %+v", code, out)
	}
}

func TestHaltOutlivesARestart(t *testing.T) {
	var db *sqlite.DB
	h := newHarness(t, func(h *harness, d *sqlite.DB) {
		db = d
		h.srv.HaltStore = sqlite.NewHaltStore(d)
	})
	h.importSample()
	if code := h.do("POST", "/api/v1/halt", adminToken, map[string]string{"environment": "production"}, nil); code != http.StatusOK {
		t.Fatalf("halt: %d", code)
	}
	// A new server process on the same database.
	again := &server.Server{Inventory: h.inv, Auth: h.auth, Principal: auth.FromContext, Fleet: h.fleet, Gate: h.gate,
		HaltStore: sqlite.NewHaltStore(db)}
	if err := again.LoadHalts(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(again.Handler())
	defer srv.Close()
	h2 := *h
	h2.http = srv
	var e apiError
	body := map[string]any{"kind": "process.hang", "params": map[string]any{"pid": 4242}, "duration": "60s",
		"select": map[string]any{"labels": map[string]string{"unit": "og-api", "zone": "sh-a"}}}
	if code := h2.do("POST", "/api/v1/faults", adminToken, body, &e); code != http.StatusConflict || !strings.Contains(e.Error.Message, "halted") {
		t.Fatalf("inject after a restart under a halt: %d %+v", code, e)
	}
	if code := h2.do("DELETE", "/api/v1/halt?environment=production", adminToken, nil, nil); code != http.StatusOK {
		t.Fatalf("resume: %d", code)
	}
	var list struct{ Halts []server.Halt }
	h2.do("GET", "/api/v1/halt", adminToken, nil, &list)
	if len(list.Halts) != 0 {
		t.Fatalf("halts after resume: %+v", list.Halts)
	}
}

func TestHaltWorksWhileTheStoreIsDown(t *testing.T) {
	var db *sqlite.DB
	h := newHarness(t, func(h *harness, d *sqlite.DB) { db = d; h.srv.HaltStore = sqlite.NewHaltStore(d) })
	h.importSample()
	// Seen once while the store is up: the credential and its bindings.
	if code := h.do("GET", "/api/v1/halt", adminToken, nil, nil); code != http.StatusOK {
		t.Fatalf("list halts: %d", code)
	}
	if code := h.do("GET", "/api/v1/systems", adminToken, nil, nil); code != http.StatusOK {
		t.Fatalf("list systems: %d", code)
	}
	db.Close()
	if code := h.do("GET", "/api/v1/systems", adminToken, nil, nil); code/100 != 5 {
		t.Fatalf("reading the inventory with the store down: %d, want a 5xx", code)
	}
	var out struct{ Agents int }
	if code := h.do("POST", "/api/v1/halt", adminToken, nil, &out); code != http.StatusOK || out.Agents != 3 {
		t.Fatalf("halt with the store down: %d %+v, want 200 over the 3 agents", code, out)
	}
	if len(h.fleet.halted) != 3 {
		t.Fatalf("fleet halted %v", h.fleet.halted)
	}
	if code := h.do("POST", "/api/v1/halt", "bwk_never-seen-token-000000000000000000000000", nil, nil); code == http.StatusOK {
		t.Fatal("an unknown token halted while the store was down")
	}
}

// TestEveryEndpointNeedsACredential walks the OpenAPI document: every
// operation but the document itself answers 401 without a credential.
func TestEveryEndpointNeedsACredential(t *testing.T) {
	h := newHarness(t, func(h *harness, db *sqlite.DB) { h.srv.RunStore = sqlite.NewRunStore(db) })
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if code := h.do("GET", "/api/v1/openapi.json", "", nil, &doc); code != http.StatusOK {
		t.Fatalf("openapi: %d", code)
	}
	n := 0
	for path, ops := range doc.Paths {
		if path == "/api/v1/openapi.json" {
			continue
		}
		concrete := strings.NewReplacer("{id}", "x", "{name}", "x", "{hostname}", "x").Replace(path)
		for method := range ops {
			n++
			if code := h.do(strings.ToUpper(method), concrete, "", `{}`, nil); code != http.StatusUnauthorized {
				t.Errorf("%s %s without a credential: %d, want 401", strings.ToUpper(method), path, code)
			}
		}
	}
	if n < 25 {
		t.Fatalf("only %d operations in the OpenAPI document", n)
	}
}
