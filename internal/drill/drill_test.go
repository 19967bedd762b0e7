package drill_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/drill"
	_ "github.com/bulwarkhq/bulwark/internal/fault/all"
)

var update = flag.Bool("update", false, "rewrite testdata/*.bad.golden from the current output")

// expectedErrors lists, for each testdata/NAME.bad.yaml, the problems Parse
// must report, in order, each a substring of one line "file:line:col:
// path: message" (Prometheus config_test style). Every bad file must be here.
var expectedErrors = map[string][]string{
	"action-both":    {`:11:15: spec.steps[0].action.http: an action is argv or http, not both`},
	"bad-abort-expr": {`:12:36: spec.abort[0].when: unexpected token EOF`},
	"bad-api-version": {
		`:1:13: apiVersion: "bulwark/v2" is not supported (use bulwark/v1)`,
		`:2:7: kind: "Playbook" is not a drill (use kind: Drill)`,
	},
	"bad-duration":       {`:11:17: spec.steps[0].duration: "3oo ms" is not a duration`},
	"bad-max-percent":    {`:10:43: spec.blastRadius.maxPercent: "lots" is not a percentage`},
	"bad-param-duration": {`:10:17: spec.steps[0].params.pid: "12x" is not a whole number`},
	"bad-percent":        {`:11:9: spec.steps[0].params.percent: 150 is out of range (0 to 100)`},
	"bad-probe-name":     {`:9:13: spec.steadyState[0].name: "Order_API" must match ^[a-z][a-z0-9-]*$`},
	"bad-scenario-id":    {`:9:17: spec.steps[0].scenario: "redis-hang" is not a scenario id category/sub/slug`},
	"bad-target":         {`:11:17: spec.steps[0].target.address: cpu.load has no target field "address" (target fields: none)`},
	"bad-taxonomy":       {`:7:9: metadata.risk: "capacity/network" is not a taxonomy id category/sub (for example capacity/network-quality; see DESIGN §2.1)`},
	"bad-type":           {`:7:9: metadata.type: "exercise" is not one of special, surprise, red-blue, replay, adhoc`},
	"bad-url": {
		`:10:20: spec.steadyState[0].http.url: "ftp//nowhere" is not an http or https URL`,
		`:10:56: spec.steadyState[0].http.expectStatus[1]: 999 is not an HTTP status`,
	},
	"count-over-blast-radius": {`:11:45: spec.steps[0].select.mode: count:3 selects more hosts than spec.blastRadius.maxHosts (2)`},
	"count-zero":              {`:11:45: spec.steps[0].select.mode: count must be a whole number of at least 1, not 0`},
	"duplicate-probe":         {`:11:13: spec.steadyState[1].name: probe "order-api" is defined twice`},
	"empty-parallel":          {`:9:17: spec.steps[0].parallel: needs at least one step`},
	"empty-selector":          {`:11:15: spec.steps[0].select: an empty selector is not allowed; name at least one label`},
	"fault-no-duration":       {`:9:7: spec.steps[0].duration: is required: every fault has an expiry`},
	"many-problems": {
		`:7:3: metadata.colour: unknown field "colour"`,
		`:10:13: spec.steadyState[0].name: "Bad" must match ^[a-z][a-z0-9-]*$`,
		`:11:23: spec.steadyState[0].tcp.address: "nowhere" is not host:port`,
		`:14:30: spec.steps[0].params.cores: "zero" is not a whole number`,
		`:16:13: spec.steps[1].wait: "soon" is not a duration`,
	},
	"min-success-rate": {
		`:11:36: spec.steadyState[0].tolerance.minSuccessRate: 1.5 is above the maximum 1`,
		`:11:53: spec.steadyState[0].tolerance.minSamples: "0.5" is not a whole number`,
	},
	"missing-name":            {`:3:1: metadata.name: is required`},
	"missing-param":           {`:9:7: spec.steps[0].params: percent is required`},
	"probe-two-checks":        {`:11:12: spec.steadyState[0].tcp: a probe has one check; this one has http and tcp`},
	"steps-empty":             {`:8:10: spec.steps: needs at least one step`},
	"stray-field":             {`:10:7: spec.steps[0].duration: does not apply to a wait step`},
	"syntax-error":            {`:10:4: value is not allowed in this context`},
	"two-forms":               {`:9:13: spec.steps[0].wait: a step is one thing; this one is fault and wait`},
	"unknown-field-nested":    {`:11:7: spec.steadyState[0].intervall: unknown field "intervall"`},
	"unknown-field":           {`:7:3: metadata.colour: unknown field "colour"`},
	"unknown-kind":            {`:9:14: spec.steps[0].fault: unknown fault kind "cpu.melt"`},
	"unknown-metric-in-abort": {`:12:23: spec.abort[0].when: unknown metric "latency" of probe "order-api" (metrics: successRate, errorRate, p50, p90, p99, lastOK)`},
	"unknown-param":           {`:12:9: spec.steps[0].params.temperature: cpu.load has no parameter "temperature" (it has: percent, cores, mode)`},
	"unknown-probe-in-abort":  {`:12:45: spec.abort[0].when: unknown probe "quote-api" (probes: order-api)`},
	"verify-unknown-probe":    {`:12:24: spec.steps[0].verify.probe: unknown probe "quote-api" (probes: order-api)`},
	"wait-negative":           {`:9:13: spec.steps[0].wait: duration "-5s" is negative`},
}

func TestGoodFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.good.yaml")
	if len(files) < 3 {
		t.Fatalf("only %d good fixtures", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			d, err := drill.ParseFile(f, drill.AllowUnknownScenarios())
			if strings.HasPrefix(filepath.Base(f), "design-example") {
				err = designExampleTolerance(t, err)
			}
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			if d != nil && d.Spec.BlastRadius == nil {
				t.Error("defaults not filled in")
			}
		})
	}
}

// designExampleTolerance: the DESIGN §5 example must parse cleanly now that
// the dep.* kinds are registered and accept target.address.
func designExampleTolerance(t *testing.T, err error) error {
	t.Helper()
	return err
}

func TestDesignExampleScenarioIsUnknownUntilResolved(t *testing.T) {
	_, err := drill.ParseFile("testdata/design-example.good.yaml")
	var de *drill.Error
	if !errors.As(err, &de) {
		t.Fatalf("want *drill.Error, got %v", err)
	}
	var found bool
	for _, p := range de.Problems {
		found = found || p.UnknownScenario && p.Path == "spec.steps[2].parallel[1].scenario"
	}
	if !found {
		t.Errorf("no unknown-scenario problem in %v", err)
	}
	d, err := drill.ParseFile("testdata/design-example.good.yaml",
		drill.WithScenarios(func(id string) bool { return id == "defect/dependency-hang/redis-hang" }))
	if err = designExampleTolerance(t, err); err != nil {
		t.Fatalf("with the scenario resolved: %v", err)
	}
	if d != nil && len(d.Warnings) != 0 {
		t.Errorf("warnings: %v", d.Warnings)
	}
}

func TestBadFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	if len(files) < 20 {
		t.Fatalf("only %d bad fixtures", len(files))
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".bad.yaml")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, ok := expectedErrors[name]
			if !ok {
				t.Fatalf("%s has no entry in expectedErrors", f)
			}
			_, err := drill.ParseFile(f, drill.AllowUnknownScenarios())
			var de *drill.Error
			if !errors.As(err, &de) {
				t.Fatalf("want *drill.Error, got %v", err)
			}
			checkProblems(t, f, de, want)
		})
	}
	for name := range expectedErrors {
		if !seen[name] {
			t.Errorf("expectedErrors names %s, which has no fixture", name)
		}
	}
}

func checkProblems(t *testing.T, file string, de *drill.Error, want []string) {
	t.Helper()
	lines := strings.Split(de.Error(), "\n")
	golden := strings.TrimSuffix(file, ".yaml") + ".golden"
	if *update {
		if err := os.WriteFile(golden, []byte(de.Error()+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if len(lines) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(lines), len(want), de)
	}
	for i, w := range want {
		if i >= len(lines) || !strings.Contains(lines[i], w) {
			t.Errorf("problem %d: want it to contain %q; got:\n%s", i, w, de)
			continue
		}
		if !strings.HasPrefix(lines[i], file+":") {
			t.Errorf("problem %d does not start with the file name: %s", i, lines[i])
		}
	}
}
