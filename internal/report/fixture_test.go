package report_test

import (
	"encoding/json"
	"math"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/report"
)

// t0 is the fixture run's start: 10:00:00 in Shanghai.
var t0 = time.Date(2025, 3, 3, 2, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(math.Round(s*1000)) * time.Millisecond) }

func ptr[T any](v T) *T { return &v }

func dur(d time.Duration) *bulwark.Duration { return ptr(bulwark.Duration(d)) }

// fixture is a failed drill on one host: two probes sampled every second
// for 24 s; step 1 slows the quote service (dep.slow) for 6 s, step 2 (after
// a wait) makes it answer errors (dep.error) for 6 s, which breaks the
// order-api's tolerance. One alert is correlated but nobody acknowledged
// it, so MTTA is null (the one measure not detected); the other alert is
// acknowledged but unrelated. Step 1 had no effect, so its measures are all
// null.
func fixture() *report.Input {
	s1a, s1e, s2a, s2e := at(5.2), at(11.1), at(13.2), at(19.1)
	steps := []report.Step{
		{Index: 1, Name: "slow quotes", Kind: "fault", Path: "spec.steps[0]", Started: at(5), Ended: at(11.2), TActive: &s1a, TEnd: &s1e,
			Hosts: []string{"trade-01"}, Faults: []*bulwark.Fault{{
				ID: "0195a1b2-0001-7000-8000-000000000001", Kind: "dep.slow", State: bulwark.StateRecovered,
				Params: map[string]string{"delay": "300ms", "jitter": "20ms"}, Target: map[string]string{"address": "127.0.0.1:9090"},
				Duration: bulwark.Duration(6 * time.Second), CreatedAt: at(5), ActiveAt: &s1a, EndedAt: &s1e, EndReason: "recovered",
				Evidence: []bulwark.Evidence{
					{Time: s1a, Check: "proxy rule", OK: true, Detail: "delay 300ms±20ms on 127.0.0.1:9090"},
					{Time: s1e, Check: "recovered", OK: true, Detail: "no rule left"},
				}}}},
		{Index: 2, Name: "wait", Kind: "wait", Path: "spec.steps[1]", Started: at(11.2), Ended: at(13)},
		{Index: 3, Name: "quote errors", Kind: "fault", Path: "spec.steps[2]", Started: at(13), Ended: at(19.2), TActive: &s2a, TEnd: &s2e,
			Hosts: []string{"trade-01"}, Faults: []*bulwark.Fault{{
				ID: "0195a1b2-0001-7000-8000-000000000002", Kind: "dep.error", State: bulwark.StateRecovered,
				Params: map[string]string{"status": "500", "percent": "100"}, Target: map[string]string{"address": "127.0.0.1:9090"},
				Duration: bulwark.Duration(6 * time.Second), CreatedAt: at(13), ActiveAt: &s2a, EndedAt: &s2e, EndReason: "recovered",
				Evidence: []bulwark.Evidence{
					{Time: s2a, Check: "proxy rule", OK: true, Detail: "HTTP 500 for 100% of requests"},
					{Time: s2e, Check: "recovered", OK: false, Detail: "1 connection still draining; retried"},
				}}}},
	}
	var samples []*bulwark.Sample
	for i := 0; i <= 24; i++ {
		ts := at(float64(i) + 0.5)
		phase := bulwark.PhaseBefore
		switch {
		case i >= 5 && i < 11:
			phase = bulwark.StepPhase(1)
		case i >= 11 && i < 13:
			phase = bulwark.StepPhase(2)
		case i >= 13 && i < 19:
			phase = bulwark.StepPhase(3)
		case i >= 19:
			phase = bulwark.PhaseAfter
		}
		lat, ok := 20+i%3*5, true
		if phase == bulwark.StepPhase(1) {
			lat = 310 + i%3*10
		}
		if phase == bulwark.StepPhase(3) && i%2 == 0 {
			ok = false
		}
		samples = append(samples,
			&bulwark.Sample{RunID: runID, Probe: "order-api", Time: ts, Phase: phase, OK: ok, LatencyNS: int64(lat) * 1e6},
			&bulwark.Sample{RunID: runID, Probe: "quote-port", Time: ts.Add(100 * time.Millisecond), Phase: phase, OK: true, LatencyNS: int64(1+i%2) * 1e6})
	}
	ack := at(16.4)
	return &report.Input{
		Run: &bulwark.Run{
			ID: runID, DrillName: "order-api-survives-slow-quotes", System: "order-gateway", Environment: "simulation",
			Type: "special", Risk: "capacity/network-quality", Owner: "sre-trading", Ticket: "CHG-2025-0042",
			DrillSHA256: "9f2c6d0e4b1a8c7d5e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d", Seed: 42,
			State: bulwark.RunFinished, Verdict: bulwark.VerdictFailed,
			Reason:    "order-api: success rate 50% during step 3 (quote errors) is under 99%",
			CreatedAt: at(-1), UpdatedAt: at(25), StartedAt: ptr(at(0)), EndedAt: ptr(at(25)),
			Measures: bulwark.Measures{TActive: &s1a, TEffect: ptr(at(13.5)), TAlert: ptr(at(14.7)), TEnd: &s2e, TRestored: ptr(at(20.5)),
				TimeToEffect: dur(300 * time.Millisecond), MTTD: dur(1500 * time.Millisecond), MTTR: dur(7 * time.Second),
				RecoveryAfterEnd: dur(1400 * time.Millisecond), MTTDSource: bulwark.MTTDFromAlert},
			StepMeasures: []bulwark.StepMeasures{
				{Step: 1, Name: "slow quotes", Measures: bulwark.Measures{TActive: &s1a, TEnd: &s1e}},
				{Step: 3, Name: "quote errors", Measures: bulwark.Measures{TActive: &s2a, TEffect: ptr(at(13.5)), TAlert: ptr(at(14.7)), TEnd: &s2e, TRestored: ptr(at(20.5)),
					TimeToEffect: dur(300 * time.Millisecond), MTTD: dur(1500 * time.Millisecond), MTTR: dur(7 * time.Second), RecoveryAfterEnd: dur(1400 * time.Millisecond)}},
			},
			Hosts: []string{"trade-01"},
		},
		Probes: []report.ProbeInfo{
			{Name: "order-api", Kind: "http", Target: "http://127.0.0.1:8080/healthz", Interval: time.Second, MinSuccessRate: ptr(0.99), MaxP99: 500 * time.Millisecond},
			{Name: "quote-port", Kind: "tcp", Target: "127.0.0.1:9090", Interval: time.Second},
		},
		Steps: steps,
		Judgements: []report.Judgement{
			{Probe: "order-api", Phase: "before", Samples: 5, SuccessRate: 1, P50: 25 * time.Millisecond, P90: 30 * time.Millisecond, P99: 30 * time.Millisecond, OK: true},
			{Probe: "order-api", Phase: "step:1", Samples: 6, SuccessRate: 1, P50: 320 * time.Millisecond, P90: 330 * time.Millisecond, P99: 330 * time.Millisecond, OK: true},
			{Probe: "order-api", Phase: "step:3", Samples: 6, SuccessRate: 0.5, P50: 25 * time.Millisecond, P90: 30 * time.Millisecond, P99: 30 * time.Millisecond, Reason: "success rate 50% < 99%"},
			{Probe: "order-api", Phase: "after", Samples: 6, SuccessRate: 1, P50: 25 * time.Millisecond, P90: 30 * time.Millisecond, P99: 30 * time.Millisecond, OK: true},
			{Probe: "quote-port", Phase: "before", Samples: 5, SuccessRate: 1, P50: time.Millisecond, P90: 2 * time.Millisecond, P99: 2 * time.Millisecond, OK: true},
			{Probe: "quote-port", Phase: "after", Samples: 6, SuccessRate: 1, P50: time.Millisecond, P90: 2 * time.Millisecond, P99: 2 * time.Millisecond, OK: true},
		},
		Events: []*bulwark.RunEvent{
			event(1, 0, bulwark.EventRunStarted, `{"hosts":"trade-01","seed":42}`),
			event(2, 5.2, bulwark.EventFaultActive, `{"step":1,"kind":"dep.slow","host":"trade-01"}`),
			event(3, 11.1, bulwark.EventFaultRecovered, `{"step":1,"kind":"dep.slow"}`),
			event(4, 13.2, bulwark.EventFaultActive, `{"step":3,"kind":"dep.error","host":"trade-01"}`),
			event(5, 13.5, bulwark.EventProbeFailed, `{"probe":"order-api","phase":"step:3"}`),
			event(6, 14.7, bulwark.EventAlertReceived, `{"source":"alertmanager","title":"OrderAPIErrors"}`),
			event(7, 19.1, bulwark.EventFaultRecovered, `{"step":3,"kind":"dep.error"}`),
			event(8, 25, bulwark.EventRunFinished, `{"verdict":"failed"}`),
		},
		Samples: samples,
		Alerts: []report.Alert{
			{Source: "alertmanager", Title: "OrderAPIErrors", StartsAt: at(14.7), Correlated: true, Host: "trade-01", System: "order-gateway"},
			{Source: "zabbix", Title: "Disk usage > 80% on db-07", StartsAt: at(8), AckedAt: &ack, Host: "db-07", System: "ledger"},
		},
		MTTDSource: bulwark.MTTDFromAlert,
		Warnings:   []string{"cpu.load step skipped: not root on this host"},
	}
}

const runID = "0195a1b2-0000-7000-8000-000000000000"

func event(seq int64, s float64, typ bulwark.EventType, data string) *bulwark.RunEvent {
	return &bulwark.RunEvent{RunID: runID, Seq: seq, Time: at(s), Type: typ, SchemaVersion: 1, Data: json.RawMessage(data)}
}
