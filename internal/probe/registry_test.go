package probe_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/probe"
)

func TestKinds(t *testing.T) {
	want := []string{"command", "http", "load", "prometheus", "sql", "tcp"}
	if got := probe.Kinds(); !slices.Equal(got, want) {
		t.Fatalf("Kinds() = %v, want %v", got, want)
	}
	for _, k := range want {
		kind, err := probe.Lookup(k)
		if err != nil || kind.NewConfig() == nil {
			t.Errorf("Lookup(%q) = %v, %v", k, kind, err)
		}
	}
	if _, err := probe.Lookup("ping"); !errors.Is(err, probe.ErrUnknownKind) {
		t.Errorf("Lookup(ping) err = %v, want ErrUnknownKind", err)
	}
}

func TestRegisterPanics(t *testing.T) {
	cases := map[string]probe.Kind{
		"empty name": {Name: "", NewConfig: func() probe.Config { return &probe.TCPConfig{} }},
		"bad name":   {Name: "Bad_Name", NewConfig: func() probe.Config { return &probe.TCPConfig{} }},
		"no config":  {Name: "noconfig"},
		"duplicate":  {Name: "http", NewConfig: func() probe.Config { return &probe.HTTPConfig{} }},
	}
	for name, k := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("Register did not panic")
				}
			}()
			probe.Register(k)
		})
	}
}

func TestNewRejects(t *testing.T) {
	cases := []struct {
		name, probe string
		cfg         probe.Config
	}{
		{"bad probe name", "Order_API", &probe.TCPConfig{Address: "127.0.0.1:1"}},
		{"tcp without port", "db", &probe.TCPConfig{Address: "127.0.0.1"}},
		{"http without url", "api", &probe.HTTPConfig{}},
		{"http ftp url", "api", &probe.HTTPConfig{URL: "ftp://x/"}},
		{"http bad status", "api", &probe.HTTPConfig{URL: "http://x/", ExpectStatus: []int{999}}},
		{"command relative", "cmd", &probe.CommandConfig{Argv: []string{"true"}}},
		{"command no argv", "cmd", &probe.CommandConfig{}},
		{"prometheus bad op", "prom", &probe.PrometheusConfig{URL: "http://p:9090", Query: "up", Op: "=~"}},
		{"prometheus no query", "prom", &probe.PrometheusConfig{URL: "http://p:9090", Op: ">"}},
		{"sql bad driver", "db", &probe.SQLConfig{Driver: "sqlite", DSN: "x", Query: "SELECT 1"}},
		{"sql empty expect", "db", &probe.SQLConfig{Driver: "mysql", DSN: "x", Query: "SELECT 1", Expect: &probe.SQLExpect{}}},
		{"sql bad oracle dsn", "db", &probe.SQLConfig{Driver: "oracle", DSN: "scott@db", Query: "SELECT 1 FROM dual"}},
		{"sql pool too big", "db", &probe.SQLConfig{Driver: "mysql", DSN: "x", Query: "SELECT 1", MaxConns: 50}},
		{"load no rate", "load", &probe.LoadConfig{HTTPConfig: probe.HTTPConfig{URL: "http://x/"}}},
		{"load rate too high", "load", &probe.LoadConfig{HTTPConfig: probe.HTTPConfig{URL: "http://x/"}, Rate: 5000}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := probe.New(tc.probe, tc.cfg, probe.Options{})
			if err == nil {
				p.Close()
				t.Fatal("New succeeded, want an error")
			}
		})
	}
}
