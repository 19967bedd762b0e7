package alert_test

import (
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/alert"
)

func TestCorrelates(t *testing.T) {
	tActive := time.Date(2026, 5, 1, 1, 30, 0, 0, time.UTC)
	tEnd := tActive.Add(2 * time.Minute)
	w := alert.StepWindow(tActive, tEnd, alert.DefaultGrace)
	hosts := []alert.HostRef{
		{Name: "app01.prod.example", IPs: []string{"10.0.0.5", "fd00::5"}},
		{Name: "db01", IPs: []string{"10.0.0.21"}},
	}
	at := func(d time.Duration) time.Time { return tActive.Add(d) }
	cases := []struct {
		name       string
		a          alert.Alert
		hostLabels []string
		want       bool
	}{
		{"instance ip:port", alert.Alert{StartsAt: at(time.Minute), Labels: map[string]string{"instance": "10.0.0.5:9100"}}, nil, true},
		{"instance ipv6", alert.Alert{StartsAt: at(time.Minute), Labels: map[string]string{"instance": "[fd00::5]:9100"}}, nil, true},
		{"instance url", alert.Alert{StartsAt: at(time.Minute), Labels: map[string]string{"instance": "http://10.0.0.21:8080/metrics"}}, nil, true},
		{"hostname fqdn vs short", alert.Alert{StartsAt: at(time.Minute), Labels: map[string]string{"hostname": "db01.prod.example"}}, nil, true},
		{"host short vs fqdn", alert.Alert{StartsAt: at(time.Minute), Labels: map[string]string{"host": "APP01"}}, nil, true},
		{"Host field", alert.Alert{StartsAt: at(time.Minute), Host: "db01"}, nil, true},
		{"HostIP field", alert.Alert{StartsAt: at(time.Minute), Host: "zbx-visible-name", HostIP: "10.0.0.21"}, nil, true},
		{"system label", alert.Alert{StartsAt: at(time.Minute), Labels: map[string]string{"system": "order-gateway"}}, nil, true},
		{"System field", alert.Alert{StartsAt: at(time.Minute), System: "Order-Gateway"}, nil, true},
		{"other host", alert.Alert{StartsAt: at(time.Minute), Labels: map[string]string{"instance": "10.0.0.99:9100"}}, nil, false},
		{"other fqdn", alert.Alert{StartsAt: at(time.Minute), Labels: map[string]string{"instance": "app01.dr.example"}}, nil, false},
		{"other system", alert.Alert{StartsAt: at(time.Minute), Labels: map[string]string{"system": "clearing"}}, nil, false},
		{"label not configured", alert.Alert{StartsAt: at(time.Minute), Labels: map[string]string{"instance": "10.0.0.5:9100"}}, []string{"node"}, false},
		{"configured label", alert.Alert{StartsAt: at(time.Minute), Labels: map[string]string{"node": "10.0.0.5"}}, []string{"node"}, true},
		{"before t_active", alert.Alert{StartsAt: at(-time.Second), Labels: map[string]string{"system": "order-gateway"}}, nil, false},
		{"at t_active", alert.Alert{StartsAt: at(0), Labels: map[string]string{"system": "order-gateway"}}, nil, true},
		{"inside grace", alert.Alert{StartsAt: tEnd.Add(5 * time.Minute), Labels: map[string]string{"system": "order-gateway"}}, nil, true},
		{"after grace", alert.Alert{StartsAt: tEnd.Add(5*time.Minute + time.Second), Labels: map[string]string{"system": "order-gateway"}}, nil, false},
		{"no startsAt uses received", alert.Alert{Received: at(time.Minute), Host: "db01"}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := alert.Correlates(tc.a, w, hosts, "order-gateway", tc.hostLabels); got != tc.want {
				t.Fatalf("Correlates = %v, want %v", got, tc.want)
			}
		})
	}
	open := alert.StepWindow(tActive, time.Time{}, alert.DefaultGrace)
	if !alert.Correlates(alert.Alert{StartsAt: at(24 * time.Hour), Host: "db01"}, open, hosts, "", nil) {
		t.Error("an open window (fault not ended) should take any later alert")
	}
}
