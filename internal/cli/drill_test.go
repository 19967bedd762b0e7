package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/cli"
	_ "github.com/bulwarkhq/bulwark/internal/fault/all"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodDrill = `apiVersion: bulwark/v1
kind: Drill
metadata: { name: cli-good, system: s1, environment: simulation }
spec:
  steadyState:
    - name: api
      tcp: { address: "127.0.0.1:8080" }
  steps:
    - fault: cpu.load
      params: { percent: 20 }
      duration: 5s
    - scenario: capacity/cpu/burn-one-core
`

const badDrill = `apiVersion: bulwark/v1
kind: Drill
metadata: { name: cli-bad, system: s1, environment: simulation }
spec:
  steps:
    - fault: cpu.load
      params: { percent: 20 }
      duraton: 5s
    - wait: -1s
`

func TestDrillValidate(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", goodDrill)
	bad := writeFile(t, dir, "bad.yaml", badDrill)
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     []string
		stderr     []string
		noStdoutOf string
	}{
		{
			name: "good", args: []string{"drill", "validate", good}, code: 0,
			stdout: []string{"ok " + good + "\n"},
			stderr: []string{"warning: " + good + `:12:17: spec.steps[1].scenario: unknown scenario "capacity/cpu/burn-one-core"`},
		},
		{
			name: "bad", args: []string{"drill", "validate", good, bad}, code: 2,
			stdout: []string{"ok " + good},
			stderr: []string{
				bad + `:8:7: spec.steps[0].duraton: unknown field "duraton"`,
				bad + `:9:13: spec.steps[1].wait: duration "-1s" is negative`,
			},
			noStdoutOf: bad,
		},
		{
			name: "missing file", args: []string{"drill", "validate", filepath.Join(dir, "nope.yaml")}, code: 2,
			stderr: []string{"nope.yaml: read drill file:"},
		},
		{name: "no files", args: []string{"drill", "validate"}, code: 2, stderr: []string{"name at least one drill file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout %q lacks %q", stdout, w)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
			if tt.noStdoutOf != "" && strings.Contains(stdout, tt.noStdoutOf) {
				t.Errorf("stdout names the bad file: %q", stdout)
			}
		})
	}
}

func TestDrillValidateForServer(t *testing.T) {
	p := writeFile(t, t.TempDir(), "local.yaml", goodDrill)
	code, _, stderr := runCLI(t, "drill", "validate", "--for-server", p)
	if code != 2 || !strings.Contains(stderr, `spec.steadyState[0].tcp.address: "127.0.0.1:8080" is a loopback address`) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestDrillSchema(t *testing.T) {
	code, stdout, stderr := runCLI(t, "drill", "schema")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", s["$schema"])
	}
}
