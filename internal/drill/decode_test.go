package drill_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/drill"
)

// decodeBase is a valid drill; the tests below replace its lines.
const decodeBase = `apiVersion: bulwark/v1
kind: Drill
metadata: { name: d, system: s1, environment: simulation }
spec:
  steadyState:
    - name: api
      http: { url: "http://127.0.0.1:8080/healthz" }
      from: local
  abort:
    - when: api.successRate < 0.5
  steps:
    - fault: cpu.load
      select: { labels: { unit: u1 } }
      params: { percent: 50 }
      duration: 10s
`

// parseEdited parses decodeBase with old replaced by new and returns the
// problems, one a line, or "" when the drill is valid.
func parseEdited(t *testing.T, old, new string) (*drill.Drill, string) {
	t.Helper()
	if !strings.Contains(decodeBase, old) {
		t.Fatalf("%q is not in the base drill", old)
	}
	d, err := drill.Parse("d.yaml", []byte(strings.Replace(decodeBase, old, new, 1)))
	var de *drill.Error
	if err != nil && !errors.As(err, &de) {
		t.Fatalf("want *drill.Error, got %v", err)
	}
	if err != nil {
		return nil, err.Error()
	}
	return d, ""
}

func TestDecodeEdges(t *testing.T) {
	for _, c := range []struct{ name, old, new, want string }{
		{"valid", "", "", ""},
		// One mistake, one problem: no "is required" for the same field.
		{"wrong shape", "apiVersion: bulwark/v1", "apiVersion: [bulwark/v1]", "d.yaml:1:13: apiVersion: must be a plain value, not a list"},
		{"list as text", "percent: 50", "percent: [50, 60]", `d.yaml:14:17: spec.steps[0].params.percent: "50,60" is not a percentage`},
		{"null param", "percent: 50", "percent: ~", "d.yaml:14:15: spec.steps[0].params: percent is required\nd.yaml:14:26: spec.steps[0].params.percent: must be a plain value or a list of them, not a null"},
		{"from", "from: local", "from: remote", `d.yaml:8:13: spec.steadyState[0].from: "remote" is neither local nor a selector {labels: …, mode: …}`},
		{"from selector", "from: local", "from: { labels: { unit: u1 }, colour: red }", `d.yaml:8:37: spec.steadyState[0].from.colour: unknown field "colour" (known: labels, mode)`},
		// Columns inside an abort expression, plain and quoted: the
		// quote moves the text one column right.
		{"plain expr", "api.successRate < 0.5", "api.successRate <", "d.yaml:10:29: spec.abort[0].when: unexpected token EOF"},
		{"quoted expr", "api.successRate < 0.5", "'api.successRate <'", "d.yaml:10:30: spec.abort[0].when: unexpected token EOF"},
		{"documents", "kind: Drill", "kind: Drill\n---\nkind: Drill", "d.yaml:4:1: one drill per file: found 2 documents"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, got := parseEdited(t, c.old, c.new)
			if got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

func TestDecodeListsAndSelectors(t *testing.T) {
	d, problems := parseEdited(t, "labels: { unit: u1 }", "labels: { unit: [u1, u2] }")
	if problems != "" {
		t.Fatal(problems)
	}
	if got := d.Spec.Steps[0].Select.Labels["unit"]; got != "u1,u2" {
		t.Errorf("unit label %q", got)
	}
	d, problems = parseEdited(t, "from: local", "from: { labels: { unit: u3 } }")
	if problems != "" {
		t.Fatal(problems)
	}
	if from := d.Spec.SteadyState[0].From; from.IsLocal() || from.Selector.Labels["unit"] != "u3" || from.Selector.Mode != "all" {
		t.Errorf("from %+v", from)
	}
}
