package agentpb

import (
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
)

// Conversions between the wire messages and the domain types, shared by the
// agent and the gateway so that both ends agree.

// FaultToPB converts a fault as the agent holds it.
func FaultToPB(f *bulwark.Fault, local bool) *FaultStatus {
	s := &FaultStatus{
		Id: f.ID, Kind: f.Kind, State: string(f.State), Params: f.Params, Target: f.Target,
		DurationMs: time.Duration(f.Duration).Milliseconds(), ActiveAtUnixNano: nanos(f.ActiveAt),
		ExpiresAtUnixNano: nanos(f.ExpiresAt), EndedAtUnixNano: nanos(f.EndedAt),
		EndReason: f.EndReason, Error: f.Error, Local: local, CreatedAtUnixNano: nanos(&f.CreatedAt),
	}
	for _, e := range f.Evidence {
		s.Evidence = append(s.Evidence, &Evidence{TimeUnixNano: e.Time.UnixNano(), Check: e.Check, Ok: e.OK, Detail: e.Detail})
	}
	return s
}

// FaultFromPB converts a reported fault status.
func FaultFromPB(s *FaultStatus) *bulwark.Fault {
	f := &bulwark.Fault{
		ID: s.GetId(), Kind: s.GetKind(), State: bulwark.State(s.GetState()), Params: s.GetParams(), Target: s.GetTarget(),
		Duration: bulwark.Duration(time.Duration(s.GetDurationMs()) * time.Millisecond),
		ActiveAt: timePtr(s.GetActiveAtUnixNano()), ExpiresAt: timePtr(s.GetExpiresAtUnixNano()),
		EndedAt: timePtr(s.GetEndedAtUnixNano()), EndReason: s.GetEndReason(), Error: s.GetError(),
	}
	if c := timePtr(s.GetCreatedAtUnixNano()); c != nil {
		f.CreatedAt = *c
	}
	for _, e := range s.GetEvidence() {
		f.Evidence = append(f.Evidence, bulwark.Evidence{Time: time.Unix(0, e.GetTimeUnixNano()).UTC(), Check: e.GetCheck(), OK: e.GetOk(), Detail: e.GetDetail()})
	}
	return f
}

// DesiredToPB converts a desired fault for the wire.
func DesiredToPB(d agentstore.DesiredFault) *DesiredFault {
	var exp int64
	if !d.ExpiresAt.IsZero() {
		exp = d.ExpiresAt.UnixNano()
	}
	return &DesiredFault{
		Id: d.ID, Kind: d.Kind, Params: d.Params, Target: d.Target,
		DurationMs: time.Duration(d.Duration).Milliseconds(), ExpiresAtUnixNano: exp,
	}
}

// DesiredFromPB converts a desired fault from the wire.
func DesiredFromPB(p *DesiredFault) agentstore.DesiredFault {
	d := agentstore.DesiredFault{
		ID: p.GetId(), Kind: p.GetKind(), Params: p.GetParams(), Target: p.GetTarget(),
		Duration: bulwark.Duration(time.Duration(p.GetDurationMs()) * time.Millisecond),
	}
	if p.GetExpiresAtUnixNano() != 0 {
		d.ExpiresAt = time.Unix(0, p.GetExpiresAtUnixNano()).UTC()
	}
	return d
}

func nanos(t *time.Time) int64 {
	if t == nil || t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timePtr(n int64) *time.Time {
	if n == 0 {
		return nil
	}
	t := time.Unix(0, n).UTC()
	return &t
}
