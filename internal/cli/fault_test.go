package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFaultKindsJSON: every kind is listed with its parameters, units and
// platforms, and whether this host can run it (with the reason when not).
func TestFaultKindsJSON(t *testing.T) {
	code, out, errs := runCLI(t, "fault", "kinds", "--json", "--state-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var v struct {
		Kinds []struct {
			ID        string   `json:"id"`
			Summary   string   `json:"summary"`
			Platforms []string `json:"platforms"`
			Outlives  string   `json:"outlives"`
			Available bool     `json:"available"`
			Reason    string   `json:"reason"`
			Params    []struct {
				Name, Type, Unit, Default string
				Required                  bool
			} `json:"params"`
		} `json:"kinds"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, k := range v.Kinds {
		ids[k.ID] = true
		if k.Summary == "" || len(k.Platforms) == 0 || k.Outlives == "" || len(k.Params) == 0 {
			t.Errorf("%s: incomplete: %+v", k.ID, k)
		}
		if !k.Available && k.Reason == "" {
			t.Errorf("%s: unavailable without a reason", k.ID)
		}
	}
	for _, want := range []string{"cpu.load", "net.partition", "process.hang", "file.corrupt", "dep.slow", "dep.hang", "dep.down", "dep.error"} {
		if !ids[want] {
			t.Errorf("%s missing from fault kinds", want)
		}
	}
	for _, k := range v.Kinds {
		if k.ID == "cpu.load" {
			for _, p := range k.Params {
				if p.Name == "percent" && (!p.Required || p.Type != "percent") {
					t.Errorf("cpu.load --percent: %+v", p)
				}
			}
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"fault", "inject"},
		{"fault", "inject", "cpu.load", "--percent", "500", "--duration", "1s"},
		{"fault", "recover"},
		{"fault", "list", "--bogus"},
	} {
		code, _, errs := runCLI(t, append(args, "--state-dir", t.TempDir())...)
		if code != 2 || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, errs)
		}
	}
}
