package policy_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/policy"
	"github.com/bulwarkhq/bulwark/internal/yamldoc"
)

func TestBuiltinParses(t *testing.T) {
	prod, other := policy.Builtin()
	if prod.File.Spec.Caps.MaxHosts != 1 || prod.File.Spec.Caps.MaxDuration.String() != "10m0s" || !prod.File.Spec.ChangeTicket {
		t.Errorf("production defaults: %+v", prod.File.Spec)
	}
	if other.File.Spec.Approvals.Count != 0 || other.File.Spec.Caps.MaxDuration == 0 {
		t.Errorf("other defaults: %+v", other.File.Spec)
	}
}

func TestParseProblems(t *testing.T) {
	const bad = `apiVersion: bulwark/v1
kind: Policy
metadata: { name: prod }
spec:
  default: production
  kinds: { allow: ["net.[*"], deny: [""] }
  caps:
    maxHosts: two
    maxDuration: 10 minutes
    params:
      - { kind: net.delay, param: delay, max: fast }
      - { kind: net.delay, max: 1s }
  approvals: { count: 9, role: operator }
  calendar: { name: cn-a-share, rules: { call-open: closed, outside: blackout }, outside: maybe }
  changeTicket: yes please
  extra: 1
`
	_, err := policy.Parse("bad.yaml", []byte(bad))
	var ye *yamldoc.Error
	if !errors.As(err, &ye) {
		t.Fatalf("want *yamldoc.Error, got %v", err)
	}
	want := []string{
		`bad.yaml:5:12: spec.default: "production" is not productionClass or other`,
		`bad.yaml:6:20: spec.kinds.allow[0]: "net.[*" is not a glob`,
		`bad.yaml:6:38: spec.kinds.deny[0]: "" is not a glob`,
		`bad.yaml:8:15: spec.caps.maxHosts: "two" is not a whole number`,
		`bad.yaml:9:18: spec.caps.maxDuration: "10 minutes" is not a duration`,
		`bad.yaml:11:47: spec.caps.params[0].max: "fast" is not a number, duration`,
		`bad.yaml:12:9: spec.caps.params[1].param: is required`,
		`bad.yaml:13:23: spec.approvals.count: must be 0 to 5, not 9`,
		`bad.yaml:13:32: spec.approvals.role: "operator" cannot approve`,
		`bad.yaml:14:53: spec.calendar.rules.call-open: "closed" is not blackout or allowed`,
		`bad.yaml:14:61: spec.calendar.rules.outside: use spec.calendar.outside`,
		`bad.yaml:14:91: spec.calendar.outside: "maybe" is not blackout or allowed`,
		`bad.yaml:15:17: spec.changeTicket: "yes please" is not true or false`,
		`bad.yaml:16:3: spec.extra: unknown field "extra"`,
	}
	lines := strings.Split(ye.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(lines), len(want), ye)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d = %q, want prefix %q", i, lines[i], w)
		}
	}
}

func TestSetSelection(t *testing.T) {
	p, err := policy.ParseFile("testdata/production.yaml")
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.NewSet(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := set.For(prodEnv).Name(); got != "production" {
		t.Errorf("production → %s", got)
	}
	if got := set.For(testEnv).Name(); got != "builtin-other" {
		t.Errorf("test → %s", got)
	}
	if _, err := policy.NewSet(p, p); err == nil {
		t.Error("two policies naming one environment were accepted")
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"defaults/production.yaml", "defaults/other.yaml", "testdata/production.yaml"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("spec: {caps: {params: [{kind: '*', param: p, max: 10mbit}]}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := policy.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		if _, err := policy.NewSet(p); err != nil && p.File.Spec.Default == "" && len(p.File.Spec.Environments) == 0 {
			t.Fatal("a parsed policy covers nothing")
		}
	})
}
