package policy_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"context"
	"github.com/bulwarkhq/bulwark/internal/calendar"
	"github.com/bulwarkhq/bulwark/internal/policy"
)

func TestGateCheck(t *testing.T) {
	if err := gate(t).Check(); err != nil {
		t.Errorf("example configuration: %v", err)
	}
	err := (&policy.Gate{}).Check()
	if err == nil || !strings.Contains(err.Error(), "production-class environments need a calendar") {
		t.Errorf("no calendar: %v", err)
	}
	p, perr := policy.Parse("p.yaml", []byte(`apiVersion: bulwark/v1
kind: Policy
metadata: { name: prod }
spec:
  environments: [production]
  calendar: { name: cn-a-share, rules: { lunch: blackout, clearing: blackout } }
`))
	if perr != nil {
		t.Fatal(perr)
	}
	set, _ := policy.NewSet(p)
	g := gate(t)
	g.Policies = set
	err = g.Check()
	if err == nil || !strings.Contains(err.Error(), `calendar cn-a-share has no session or window "lunch"`) || strings.Contains(err.Error(), "rules.clearing") {
		t.Errorf("unknown rule: %v", err)
	}
	g.Calendars = map[string]*calendar.Calendar{}
	if err := g.Check(); err == nil || !strings.Contains(err.Error(), `calendar "cn-a-share" is not loaded`) {
		t.Errorf("missing calendar: %v", err)
	}
}

// TestHalfOpenInterval: a fault whose planned interval (with its recovery
// margin) ends exactly when a session opens does not touch it.
func TestHalfOpenInterval(t *testing.T) {
	g := gate(t)
	// 12:45 + 10m + 5m margin ends at 13:00, when continuous-pm opens.
	d := g.Decide(context.Background(), prodReq(func(r *policy.Request) { r.Start = time.Date(2026, 3, 3, 12, 45, 0, 0, sh) }))
	if d.Outcome != policy.NeedsApproval {
		t.Errorf("%s", d.JSON())
	}
}

// TestAgentCanEmbed: the agent embeds calendar and policy, so neither may
// pull in the server, the store or a database driver.
func TestAgentCanEmbed(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".", "../calendar").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"/internal/server", "/internal/store", "/internal/approval", "/internal/auth", "modernc.org/sqlite", "database/sql", "/internal/agentgw"} {
			if strings.Contains(dep, bad) {
				t.Errorf("policy or calendar depends on %s", dep)
			}
		}
	}
}
