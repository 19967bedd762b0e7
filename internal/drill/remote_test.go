package drill_test

import (
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/drill"
)

func TestCheckRemoteRefusesLoopbackWithoutFrom(t *testing.T) {
	src := func(probe string) []byte {
		return []byte(`apiVersion: bulwark/v1
kind: Drill
metadata: { name: d, system: s, environment: simulation }
spec:
  steadyState:
    - name: api
` + probe + `
  steps:
    - wait: 1s
`)
	}
	for _, tc := range []struct {
		probe string
		bad   bool
	}{
		{`      http: { url: "http://127.0.0.1:8080/healthz" }`, true},
		{`      tcp: { address: "localhost:5432" }`, true},
		{`      tcp: { address: "[::1]:5432" }`, true},
		{"      tcp: { address: \"127.0.0.1:5432\" }\n      from: local", false},
		{`      http: { url: "http://quotes.example:8080/healthz" }`, false},
	} {
		d, err := drill.Parse("d.yaml", src(tc.probe))
		if err != nil {
			t.Fatalf("%s: %v", tc.probe, err)
		}
		err = d.CheckRemote("d.yaml")
		if (err != nil) != tc.bad {
			t.Errorf("%s: CheckRemote = %v, want error %v", tc.probe, err, tc.bad)
		}
		if err != nil && !strings.Contains(err.Error(), "spec.steadyState[0]") {
			t.Errorf("error does not name the field: %v", err)
		}
	}
}
