package changegate_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/policy"
	"github.com/bulwarkhq/bulwark/internal/policy/changegate"
)

// changeSystem is a small change-management system: tickets by id, a
// bearer token, and the notices it received.
type changeSystem struct {
	token   string
	mu      sync.Mutex
	tickets map[string]map[string]any
	queries []policy.TicketQuery
	notices []policy.Notice
	block   chan struct{} // when set, /check waits for it or the client's cancel
}

func (cs *changeSystem) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+cs.token {
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	switch r.URL.Path {
	case "/check":
		if cs.block != nil {
			cs.mu.Unlock()
			select {
			case <-cs.block:
			case <-r.Context().Done():
			}
			cs.mu.Lock()
		}
		var q policy.TicketQuery
		if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		cs.queries = append(cs.queries, q)
		t, ok := cs.tickets[q.Ticket]
		if !ok {
			http.Error(w, "no such ticket", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(t)
	case "/notify":
		var n policy.Notice
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		cs.notices = append(cs.notices, n)
	default:
		http.NotFound(w, r)
	}
}

var (
	sh      = time.FixedZone("CST", 8*3600)
	lunch   = time.Date(2026, 3, 3, 11, 35, 0, 0, sh)
	prodEnv = bulwark.Environment{Name: "production", ProductionClass: true}
)

func setup(t *testing.T) (*changeSystem, *changegate.Client) {
	t.Helper()
	cs := &changeSystem{token: "s3cret", tickets: map[string]map[string]any{
		"CHG-OK":     {"approved": true, "windowStart": "2026-03-03T03:00:00Z", "windowEnd": "2026-03-03T05:00:00Z", "hosts": []string{"h1"}},
		"CHG-NO":     {"approved": false},
		"CHG-LATE":   {"approved": true, "windowStart": "2026-03-03T03:40:00Z", "windowEnd": "2026-03-03T05:00:00Z", "hosts": []string{"h1"}},
		"CHG-OTHER":  {"approved": true, "windowStart": "2026-03-03T03:00:00Z", "windowEnd": "2026-03-03T05:00:00Z", "hosts": []string{"h9"}},
		"CHG-SILENT": {"windowStart": "2026-03-03T03:00:00Z"},
	}}
	srv := httptest.NewServer(cs)
	t.Cleanup(srv.Close)
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return cs, &changegate.Client{CheckURL: srv.URL + "/check", NotifyURL: srv.URL + "/notify", TokenFile: tok, Timeout: 2 * time.Second}
}

// decide runs the policy gate for a staging host under a policy that
// requires a change ticket and has no calendar or approvals, so the change
// system alone decides.
func decide(t *testing.T, cg policy.ChangeGate, ticket string) policy.Decision {
	t.Helper()
	p, err := policy.Parse("p.yaml", []byte(`apiVersion: bulwark/v1
kind: Policy
metadata: { name: staging }
spec:
  environments: [staging]
  changeTicket: true
  recoveryMargin: 5m
`))
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.NewSet(p)
	if err != nil {
		t.Fatal(err)
	}
	g := &policy.Gate{Policies: set, ChangeGate: cg}
	return g.Decide(context.Background(), policy.Request{
		Principal: bulwark.Principal{ID: "u1", Kind: bulwark.PrincipalUser}, Action: policy.ActionFaultInject, Kind: "process.hang",
		Targets: []policy.Target{{HostID: "h1", Environment: bulwark.Environment{Name: "staging"}, System: bulwark.System{Name: "trade"}}},
		Start:   lunch, Duration: 10 * time.Minute, Ticket: ticket,
	})
}

func codes(rs []policy.Reason) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Code)
	}
	return strings.Join(out, " ")
}

func TestGateWithChangeSystem(t *testing.T) {
	cs, c := setup(t)
	for _, tc := range []struct {
		ticket  string
		outcome policy.Outcome
		reasons string
	}{
		{"CHG-OK", policy.Allow, ""},
		{"CHG-NO", policy.Deny, "policy.ticket.notApproved"},
		{"CHG-LATE", policy.Deny, "policy.ticket.outsideWindow"},
		{"CHG-OTHER", policy.Deny, "policy.ticket.hostNotCovered"},
		{"CHG-SILENT", policy.Deny, "policy.ticket.unreachable"},
		{"CHG-UNKNOWN", policy.Deny, "policy.ticket.unreachable"},
	} {
		d := decide(t, c, tc.ticket)
		if d.Outcome != tc.outcome || codes(d.Reasons) != tc.reasons {
			t.Errorf("%s: %s [%s], want %s [%s]\n%s", tc.ticket, d.Outcome, codes(d.Reasons), tc.outcome, tc.reasons, d.JSON())
		}
	}
	q := cs.queries[0]
	if q.Ticket != "CHG-OK" || q.Environment != "staging" || strings.Join(q.Hosts, ",") != "h1" || strings.Join(q.Systems, ",") != "trade" ||
		!q.Start.Equal(lunch) || !q.End.Equal(lunch.Add(15*time.Minute)) {
		t.Errorf("query = %+v", q)
	}
}

func TestFailClosed(t *testing.T) {
	cs, c := setup(t)

	// A wrong token: the change system answers 401.
	bad := *c
	bad.TokenFile = filepath.Join(t.TempDir(), "other")
	if err := os.WriteFile(bad.TokenFile, []byte("wrong"), 0o600); err != nil {
		t.Fatal(err)
	}
	if d := decide(t, &bad, "CHG-OK"); d.Outcome != policy.Deny || !strings.Contains(d.Reasons[0].Message, "401") {
		t.Errorf("bad token: %s", d.JSON())
	}
	// A missing token file.
	bad.TokenFile = filepath.Join(t.TempDir(), "missing")
	if d := decide(t, &bad, "CHG-OK"); d.Outcome != policy.Deny || codes(d.Reasons) != "policy.ticket.unreachable" {
		t.Errorf("missing token file: %s", d.JSON())
	}
	// Nothing listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	gone := &changegate.Client{CheckURL: "http://" + addr + "/check"}
	if d := decide(t, gone, "CHG-OK"); d.Outcome != policy.Deny || !strings.Contains(d.Reasons[0].Message, "unreachable") {
		t.Errorf("unreachable: %s", d.JSON())
	}
	// The change system never answers: the client's timeout ends the call.
	cs.block = make(chan struct{})
	defer close(cs.block)
	slow := *c
	slow.Timeout = 100 * time.Millisecond
	if d := decide(t, &slow, "CHG-OK"); d.Outcome != policy.Deny || codes(d.Reasons) != "policy.ticket.unreachable" {
		t.Errorf("timeout: %s", d.JSON())
	}
}

func TestNotify(t *testing.T) {
	cs, c := setup(t)
	n := policy.Notice{Ticket: "CHG-OK", Event: policy.NoticeVerdict, RunID: "r1", Verdict: "passed",
		ReportURL: "https://bulwark.example/runs/r1/report", Time: lunch}
	if err := c.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if len(cs.notices) != 1 || cs.notices[0].Verdict != "passed" || !cs.notices[0].Time.Equal(lunch) || cs.notices[0].ReportURL != n.ReportURL {
		t.Errorf("notices = %+v", cs.notices)
	}
	if err := (&changegate.Client{CheckURL: "x"}).Notify(context.Background(), n); err != nil {
		t.Errorf("no notify URL: %v", err)
	}
}
