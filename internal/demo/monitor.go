package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// monitor stands in for the firm's monitoring: it polls the order API and
// posts an Alertmanager (v4) alert to the drill's alert receiver when the
// error rate or latency over the last two seconds is bad, and a resolved
// notification when it is good again.
type monitor struct {
	orderURL, alertURL, host string
	client                   *http.Client
}

func (m *monitor) run(ctx context.Context, wg *sync.WaitGroup) {
	defer wg.Done()
	type obs struct {
		t    time.Time
		bad  bool
		slow bool
	}
	var window []obs
	firing := false
	var startsAt time.Time
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		resp, err := m.client.Post(m.orderURL+"/order?sym=600000&qty=100", "text/plain", nil)
		o := obs{t: start, bad: err != nil, slow: time.Since(start) > 150*time.Millisecond}
		if err == nil {
			o.bad = resp.StatusCode >= 500
			resp.Body.Close()
		}
		window = append(window, o)
		for len(window) > 0 && start.Sub(window[0].t) > 2*time.Second {
			window = window[1:]
		}
		bad := 0
		for _, w := range window {
			if w.bad || w.slow {
				bad++
			}
		}
		switch alarm := len(window) >= 5 && bad*4 >= len(window); {
		case alarm && !firing:
			firing, startsAt = true, start
			m.post(ctx, "firing", startsAt)
		case !alarm && firing && bad == 0:
			firing = false
			m.post(ctx, "resolved", startsAt)
		}
	}
}

func (m *monitor) post(ctx context.Context, status string, startsAt time.Time) {
	a := map[string]any{
		"status":      status,
		"labels":      map[string]string{"alertname": "OrderAPIDegraded", "instance": m.host, "system": "order-gateway", "severity": "critical"},
		"annotations": map[string]string{"summary": "order API errors or latency over 150 ms in more than 25% of requests for 2s"},
		"startsAt":    startsAt.UTC().Format(time.RFC3339Nano),
		"fingerprint": "order-api-degraded-" + startsAt.UTC().Format("150405.000"),
	}
	if status == "resolved" {
		a["endsAt"] = time.Now().UTC().Format(time.RFC3339Nano)
	}
	body, _ := json.Marshal(map[string]any{"version": "4", "status": status, "receiver": "bulwark", "alerts": []any{a}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.alertURL, bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if resp, err := m.client.Do(req); err == nil {
		resp.Body.Close()
	}
}
