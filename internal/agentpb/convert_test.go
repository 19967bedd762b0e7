package agentpb_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
	"github.com/bulwarkhq/bulwark/internal/agentpb"
)

func TestFaultRoundTrip(t *testing.T) {
	ms := func(t time.Time) time.Time { return t.Truncate(time.Millisecond).UTC() }
	now := ms(time.Now())
	later := now.Add(time.Minute)
	f := &bulwark.Fault{
		ID: bulwark.NewID(), Kind: "process.hang", Params: map[string]string{"pid": "1"}, Target: map[string]string{"host": "h"},
		State: bulwark.StateActive, Duration: bulwark.Duration(time.Minute), CreatedAt: now, ActiveAt: &now, ExpiresAt: &later,
		EndReason: "x", Error: "y", Evidence: []bulwark.Evidence{{Time: now, Check: "stopped", OK: true, Detail: "T"}},
	}
	got := agentpb.FaultFromPB(agentpb.FaultToPB(f, true))
	if diff := cmp.Diff(f, got); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
	d := agentstore.DesiredFault{ID: f.ID, Kind: f.Kind, Params: f.Params, Duration: f.Duration, ExpiresAt: later}
	if diff := cmp.Diff(d, agentpb.DesiredFromPB(agentpb.DesiredToPB(d))); diff != "" {
		t.Fatalf("desired round trip (-want +got):\n%s", diff)
	}
}
