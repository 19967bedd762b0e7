package alert_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/alert"
)

// amFiring is an Alertmanager v4 webhook body as Alertmanager sends it.
const amFiring = `{
  "receiver": "bulwark",
  "status": "firing",
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "HighLatency", "instance": "10.0.0.5:9100", "job": "order-api", "severity": "critical", "system": "order-gateway"},
      "annotations": {"summary": "order-api p99 above 500ms", "description": "p99 is 812ms"},
      "startsAt": "2026-05-01T01:31:05.123Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prometheus:9090/graph?g0.expr=...",
      "fingerprint": "a1b2c3d4e5f60718"
    },
    {
      "status": "firing",
      "labels": {"alertname": "InstanceDown", "instance": "db01.prod.example:9100", "job": "node"},
      "annotations": {},
      "startsAt": "2026-05-01T01:31:20Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "",
      "fingerprint": "0f1e2d3c4b5a6978"
    }
  ],
  "groupLabels": {"alertname": "HighLatency"},
  "commonLabels": {"job": "order-api"},
  "commonAnnotations": {},
  "externalURL": "http://alertmanager:9093",
  "version": "4",
  "groupKey": "{}:{alertname=\"HighLatency\"}",
  "truncatedAlerts": 0
}`

// newServer serves a receiver and subscribes to it.
func newServer(t *testing.T, cfg alert.Config) (*httptest.Server, *alert.Receiver, <-chan alert.Alert) {
	t.Helper()
	rc := alert.NewReceiver(cfg)
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return srv, rc, rc.Subscribe(ctx, 64)
}

// post sends body and returns the status and response body.
func post(t *testing.T, url, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// next waits for one notification.
func next(t *testing.T, ch <-chan alert.Alert) alert.Alert {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(5 * time.Second):
		t.Fatal("no alert notification")
		return alert.Alert{}
	}
}

// none checks that no notification is pending.
func none(t *testing.T, ch <-chan alert.Alert) {
	t.Helper()
	select {
	case a := <-ch:
		t.Fatalf("unexpected notification %+v", a)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestAlertmanagerWebhook(t *testing.T) {
	srv, rc, ch := newServer(t, alert.Config{})
	if code, body := post(t, srv.URL+"/", amFiring); code != 200 || !strings.Contains(body, `"received":2`) {
		t.Fatalf("POST = %d %s", code, body)
	}
	a := next(t, ch)
	want := time.Date(2026, 5, 1, 1, 31, 5, 123e6, time.UTC)
	if a.Source != "alertmanager" || a.ID != "a1b2c3d4e5f60718" || a.Host != "10.0.0.5" || a.System != "order-gateway" ||
		a.Severity != "critical" || a.Title != "order-api p99 above 500ms" || a.Status != alert.StatusFiring ||
		!a.StartsAt.Equal(want) || a.EndsAt != nil || a.Received.IsZero() || a.Labels["job"] != "order-api" {
		t.Fatalf("first alert = %+v", a)
	}
	if b := next(t, ch); b.Host != "db01.prod.example" || b.Title != "InstanceDown" {
		t.Fatalf("second alert = %+v", b)
	}

	// Alertmanager resends firing alerts every group_interval: no news.
	post(t, srv.URL+"/alertmanager", amFiring)
	none(t, ch)

	// Resolved: one notification, the first StartsAt kept.
	resolved := strings.Replace(amFiring, `"status": "firing",
      "labels": {"alertname": "HighLatency"`, `"status": "resolved",
      "labels": {"alertname": "HighLatency"`, 1)
	resolved = strings.Replace(resolved, `"endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prometheus`, `"endsAt": "2026-05-01T01:40:00Z",
      "generatorURL": "http://prometheus`, 1)
	post(t, srv.URL+"/alertmanager", resolved)
	r := next(t, ch)
	if r.ID != "a1b2c3d4e5f60718" || r.Status != alert.StatusResolved || r.EndsAt == nil || !r.StartsAt.Equal(want) {
		t.Fatalf("resolved alert = %+v", r)
	}
	none(t, ch)
	if n := len(rc.Alerts()); n != 2 {
		t.Fatalf("Alerts() has %d, want 2", n)
	}
}

func TestAck(t *testing.T) {
	srv, _, ch := newServer(t, alert.Config{})
	post(t, srv.URL+"/", amFiring)
	next(t, ch)
	next(t, ch)
	code, body := post(t, srv.URL+"/ack", `{"id":"a1b2c3d4e5f60718","by":"alice","at":"2026-05-01T01:33:00Z"}`)
	if code != 200 {
		t.Fatalf("ack = %d %s", code, body)
	}
	a := next(t, ch)
	if a.AckedBy != "alice" || a.AckedAt == nil || !a.AckedAt.Equal(time.Date(2026, 5, 1, 1, 33, 0, 0, time.UTC)) {
		t.Fatalf("acked alert = %+v", a)
	}
	// The first acknowledgement wins; a second is accepted and changes nothing.
	post(t, srv.URL+"/ack", `{"source":"alertmanager","id":"a1b2c3d4e5f60718","by":"bob"}`)
	none(t, ch)

	cases := []struct {
		name, body string
		code       int
	}{
		{"unknown id", `{"id":"nope","by":"alice"}`, 404},
		{"no by", `{"id":"a1b2c3d4e5f60718"}`, 400},
		{"not json", `ack!`, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := post(t, srv.URL+"/ack", tc.body); code != tc.code || !strings.Contains(body, `"error"`) {
				t.Fatalf("ack = %d %s, want %d with an error", code, body, tc.code)
			}
		})
	}
}

func TestReceiverRejects(t *testing.T) {
	srv, _, _ := newServer(t, alert.Config{Token: "s3cret"})
	auth := []string{"Authorization", "Bearer s3cret"}
	cases := []struct {
		name, path, body string
		header           []string
		code             int
	}{
		{"no token", "/", amFiring, nil, 401},
		{"wrong token", "/", amFiring, []string{"Authorization", "Bearer nope"}, 401},
		{"token", "/", amFiring, auth, 200},
		{"version 3", "/alertmanager", `{"version":"3","alerts":[]}`, auth, 400},
		{"not json", "/alertmanager", `{`, auth, 400},
		{"unknown mapping", "/webhook/splunk", `{}`, auth, 404},
		{"zabbix not object", "/webhook/zabbix", `[1,2]`, auth, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, srv.URL+tc.path, tc.body, tc.header...)
			if code != tc.code {
				t.Fatalf("POST %s = %d %s, want %d", tc.path, code, body, tc.code)
			}
			if code != 200 {
				var e struct {
					Error struct{ Code, Message string } `json:"error"`
				}
				if json.Unmarshal([]byte(body), &e) != nil || e.Error.Code == "" {
					t.Fatalf("error body %s is not the API's error shape", body)
				}
			}
		})
	}
}

func TestSubscribeClosesOnCancel(t *testing.T) {
	rc := alert.NewReceiver(alert.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	ch := rc.Subscribe(ctx, 1)
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("value on a cancelled subscription")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("channel not closed after cancel")
	}
}
