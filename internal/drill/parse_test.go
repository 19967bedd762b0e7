package drill_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/drill"
)

const localProbe = `apiVersion: bulwark/v1
kind: Drill
metadata: { name: local, system: s1, environment: simulation }
spec:
  steadyState:
    - name: api
      http: { url: "http://localhost:8080/healthz" }
    - name: port
      tcp: { address: "127.0.0.1:9000" }
      from: local
    - name: remote
      tcp: { address: "[::1]:9000" }
      from: { labels: { unit: u1 } }
  steps:
    - action: { argv: [/usr/bin/true] }
`

func TestForServer(t *testing.T) {
	if _, err := drill.Parse("local.yaml", []byte(localProbe)); err != nil {
		t.Fatalf("standalone: %v", err)
	}
	_, err := drill.Parse("local.yaml", []byte(localProbe), drill.ForServer())
	var de *drill.Error
	if !errors.As(err, &de) {
		t.Fatalf("for server: want *drill.Error, got %v", err)
	}
	want := []string{
		`local.yaml:7:20: spec.steadyState[0].http.url: "http://localhost:8080/healthz" is a loopback address`,
		`local.yaml:15:7: spec.steps[0].action.on: is required for a run through the server`,
	}
	checkProblemLines(t, de, want)
}

func checkProblemLines(t *testing.T, de *drill.Error, want []string) {
	t.Helper()
	lines := strings.Split(de.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(lines), len(want), de)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d = %q, want prefix %q", i, lines[i], w)
		}
	}
}

func TestDefaults(t *testing.T) {
	d, err := drill.ParseFile("testdata/nested-groups.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := d.Spec
	if s.Settle != drill.DefaultSettle || s.Before.String() != "20s" || s.Alerts.Grace.String() != "10m0s" {
		t.Errorf("settle %v before %v grace %v", s.Settle, s.Before, s.Alerts.Grace)
	}
	p := s.SteadyState[0]
	if p.Interval != drill.DefaultInterval || *p.Tolerance.MinSuccessRate != 1 || p.Tolerance.MinSamples != drill.DefaultMinSamples {
		t.Errorf("probe defaults: %+v %+v", p, *p.Tolerance)
	}
	if p.CheckTimeout().String() != "500ms" || s.SteadyState[1].CheckTimeout() != drill.DefaultTimeout {
		t.Errorf("check timeouts %v %v", p.CheckTimeout(), s.SteadyState[1].CheckTimeout())
	}
	if s.SteadyState[2].Load.Concurrency != 4 || s.SteadyState[2].Load.HTTP.Method != "GET" {
		t.Errorf("load %+v", s.SteadyState[2].Load)
	}
	if d.Metadata.Type != drill.TypeRedBlue {
		t.Errorf("type %q", d.Metadata.Type)
	}
}

func TestStepTree(t *testing.T) {
	d, err := drill.ParseFile("testdata/nested-groups.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = drill.Walk(d.Spec.Steps, func(s *drill.Step) error {
		entry := string(s.Kind())
		if s.Kind() == drill.StepFault {
			entry += " " + s.Fault + " " + string(s.Select.Mode) + " " + s.Select.Labels["system"]
			if s.FaultParams == nil {
				t.Errorf("%s: FaultParams not set", s.Path)
			}
		}
		got = append(got, s.Path+": "+entry)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"spec.steps[0]: serial",
		"spec.steps[0].serial[0]: fault cpu.load count:1 ",
		"spec.steps[0].serial[1]: parallel",
		"spec.steps[0].serial[1].parallel[0]: fault cpu.load percent:50 ",
		"spec.steps[0].serial[1].parallel[1]: fault process.hang all settlement",
		"spec.steps[0].serial[1].parallel[2]: serial",
		"spec.steps[0].serial[1].parallel[2].serial[0]: wait",
		"spec.steps[0].serial[1].parallel[2].serial[1]: fault file.corrupt all settlement",
		"spec.steps[1]: wait",
		"spec.steps[2]: fault net.partition all settlement",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("walk:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestProcedureDrill(t *testing.T) {
	d, err := drill.ParseFile("testdata/procedure-only.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	steps := d.Spec.Steps
	if steps[0].Kind() != drill.StepAction || steps[2].Kind() != drill.StepManual || steps[4].Verify.Cond == nil {
		t.Fatalf("steps: %+v", steps)
	}
	if d.Metadata.Change.Ticket != "CHG-20240117" {
		t.Errorf("ticket %q", d.Metadata.Change.Ticket)
	}
	if from := d.Spec.SteadyState[0].From; from.IsLocal() || from.Selector.Mode != "all" {
		t.Errorf("from %+v", from)
	}
}

func TestUnknownScenarioIsAnErrorByDefault(t *testing.T) {
	src := strings.Replace(localProbe, "- action: { argv: [/usr/bin/true] }", "- scenario: spof/host-down/reboot-one", 1)
	_, err := drill.Parse("s.yaml", []byte(src))
	var de *drill.Error
	if !errors.As(err, &de) || len(de.Problems) != 1 || !de.Problems[0].UnknownScenario {
		t.Fatalf("want one unknown-scenario problem, got %v", err)
	}
	d, err := drill.Parse("s.yaml", []byte(src), drill.AllowUnknownScenarios())
	if err != nil || len(d.Warnings) != 1 {
		t.Fatalf("allowed: %v, warnings %v", err, d)
	}
}

func TestJSONSchema(t *testing.T) {
	var s struct {
		Schema string                     `json:"$schema"`
		Defs   map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(drill.JSONSchema(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema %q", s.Schema)
	}
	for _, def := range []string{"Drill", "Metadata", "Spec", "Probe", "Step", "Action", "Selector"} {
		if _, ok := s.Defs[def]; !ok {
			t.Errorf("no $defs/%s", def)
		}
	}
	if step := string(s.Defs["Step"]); !strings.Contains(step, `"const": "cpu.load"`) || !strings.Contains(step, `"percent"`) {
		t.Errorf("Step has no cpu.load params rule: %s", step)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"design-example.good.yaml", "procedure-only.good.yaml", "nested-groups.good.yaml", "many-problems.bad.yaml"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(localProbe))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := drill.Parse("fuzz.yaml", data, drill.AllowUnknownScenarios())
		if (d == nil) == (err == nil) {
			t.Fatalf("Parse returned drill %v and error %v", d != nil, err)
		}
		var de *drill.Error
		if err != nil && (!errors.As(err, &de) || len(de.Problems) == 0) {
			t.Fatalf("error is not a non-empty *drill.Error: %v", err)
		}
	})
}

func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: bulwark/v1\nkind: Drill\nmetadata: {name: x, system: s, environment: e}\nx0: &a0 {wait: 1s}\n")
	for i := 1; i < 30; i++ {
		fmt.Fprintf(&b, "x%d: &a%d {parallel: [*a%d, *a%d]}\n", i, i, i-1, i-1)
	}
	b.WriteString("spec:\n  steps: [*a29]\n")
	_, err := drill.Parse("bomb.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "too many values") {
		t.Fatalf("Parse: %v", err)
	}
}
