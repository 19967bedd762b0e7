package agent_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agent"
)

func TestPolicyGate(t *testing.T) {
	cal, err := os.ReadFile("../../examples/calendars/cn-a-share.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Past validThrough, every instant is a blackout (DESIGN §5.1 contract 11).
	expired := []byte(strings.Replace(string(cal), "validThrough: 2026-12-31T23:59:59+08:00", "validThrough: 2020-12-31T23:59:59+08:00", 1))
	if string(expired) == string(cal) {
		t.Fatal("the example calendar's validThrough moved; update this test")
	}
	ctx := context.Background()
	spec := bulwark.FaultSpec{Kind: "process.hang", Params: map[string]string{"pid": "4242"}, Duration: bulwark.Duration(time.Minute)}
	from := time.Now()
	to := from.Add(time.Minute)
	g := &agent.PolicyGate{HostID: func() string { return "h1" }}
	tests := []struct {
		name    string
		env     agent.GateEnv
		allowed bool
		reason  string
	}{
		{"not production-class", agent.GateEnv{Name: "simulation", Calendar: expired}, true, ""},
		{"production-class without documents", agent.GateEnv{Name: "production", ProductionClass: true}, true, ""},
		{"production-class past validThrough", agent.GateEnv{Name: "production", ProductionClass: true, Calendar: expired}, false, "valid"},
		{"production-class with a calendar that does not parse", agent.GateEnv{Name: "production", ProductionClass: true, Calendar: []byte("kind: Nope\n")}, false, "does not parse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := g.Check(ctx, tc.env, spec, from, to)
			if tc.allowed != (err == nil) || err != nil && !strings.Contains(strings.ToLower(err.Error()), tc.reason) {
				t.Fatalf("err = %v, want allowed=%v with %q", err, tc.allowed, tc.reason)
			}
		})
	}
}
