package policy_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/policy"
)

func TestLocalGateFromDocuments(t *testing.T) {
	cal, err := os.ReadFile("../../examples/calendars/cn-a-share.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g, err := policy.NewLocalGate(nil, cal)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	spec := bulwark.FaultSpec{Kind: "process.hang", Params: map[string]string{"name": "matcher"}, Duration: bulwark.Duration(time.Minute)}
	at := func(h, m int) time.Time { return time.Date(2026, 3, 3, h, m, 0, 0, sh) }
	if _, err := g.CheckFault(ctx, prodEnv, "h1", spec, at(12, 0), at(12, 1)); err != nil {
		t.Errorf("lunch break: %v", err)
	}
	d, err := g.CheckFault(ctx, prodEnv, "h1", spec, at(10, 0), at(10, 1))
	if bulwark.ErrorCode(err) != bulwark.EFORBIDDEN || !strings.Contains(err.Error(), "continuous-am") || d.Outcome != policy.Deny {
		t.Errorf("continuous session: %v", err)
	}
	// Without a calendar a production-class environment refuses everything;
	// a test environment does not need one.
	bare, err := policy.NewLocalGate(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bare.CheckFault(ctx, prodEnv, "h1", spec, at(12, 0), at(12, 1)); bulwark.ErrorCode(err) != bulwark.EFORBIDDEN {
		t.Errorf("production without a calendar: %v", err)
	}
	if _, err := bare.CheckFault(ctx, testEnv, "h1", spec, at(10, 0), at(10, 1)); err != nil {
		t.Errorf("test env: %v", err)
	}
	if _, err := policy.NewLocalGate([]byte("kind: Nope\n"), nil); err == nil {
		t.Error("a bad policy document was accepted")
	}
}
