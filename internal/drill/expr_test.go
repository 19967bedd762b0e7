package drill_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/drill"
)

func TestCompileEval(t *testing.T) {
	probes := []string{"order-api", "quotes", "db-2"}
	env := drill.Env{
		"order-api": {SuccessRate: 0.4, ErrorRate: 0.6, P99: 800 * time.Millisecond, LastOK: false},
		"quotes":    {SuccessRate: 1, P99: 20 * time.Millisecond, LastOK: true},
		"db-2":      {SuccessRate: 0.9, P50: time.Second},
	}
	tests := []struct {
		name, src string
		want      bool
	}{
		{"rate below", "order-api.successRate < 0.5", true},
		{"rate above", "quotes.successRate < 0.5", false},
		{"duration literal", "order-api.p99 > 500ms", true},
		{"compound literal", "db-2.p50 >= 1m30s", false},
		{"and or", "quotes.lastOK and (order-api.errorRate > 0.5 || db-2.successRate < 0.5)", true},
		{"explicit probe call", `probe("quotes").p99 < duration("50ms")`, true},
		{"string literal untouched", `"order-api.p99" == "order-api.p99"`, true},
		{"digit in name", "db-2.successRate == 0.9", true},
		{"no spaces", "order-api.successRate<0.5&&quotes.lastOK", true},
		{"not", "not order-api.lastOK", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := drill.Compile(tt.src, probes)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tt.src, err)
			}
			got, err := c.Eval(env)
			if err != nil || got != tt.want {
				t.Fatalf("Eval(%q) = %v, %v; want %v (compiled %q)", tt.src, got, err, tt.want, c.Rewritten)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	probes := []string{"order-api"}
	tests := []struct {
		src    string
		offset int
		msg    string
	}{
		{"", 0, "is empty"},
		{"quote-api.successRate < 1", 0, `unknown probe "quote-api"`},
		{"order-api.successRate < 1 || x-y.p99 > 1s", 29, `unknown probe "x-y"`},
		{"order-api.latency > 1", 10, `unknown metric "latency"`},
		{"order-api.successRate", 0, "expected bool"},
		{"order-api.successRate < ", 23, "unexpected token EOF"},
		{`probe("nope").p99 > 1s`, 0, `unknown probe "nope"`},
		{"os.Exit(1)", 0, `unknown probe "os"`},
		{"order-api.successRate < limit", 24, "unknown name limit"},
	}
	for _, tt := range tests {
		_, err := drill.Compile(tt.src, probes)
		var ce *drill.CompileError
		if !errors.As(err, &ce) {
			t.Errorf("Compile(%q) = %v, want a *CompileError", tt.src, err)
			continue
		}
		if !strings.Contains(ce.Message, tt.msg) || ce.Offset != tt.offset {
			t.Errorf("Compile(%q) = offset %d %q; want offset %d containing %q", tt.src, ce.Offset, ce.Message, tt.offset, tt.msg)
		}
	}
}

func TestEvalMissingProbe(t *testing.T) {
	c, err := drill.Compile("order-api.lastOK", []string{"order-api"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Eval(drill.Env{}); err == nil || !strings.Contains(err.Error(), `no metrics for probe "order-api"`) {
		t.Fatalf("Eval with no metrics: %v", err)
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"order-api.successRate < 0.5", "a.p99 > 1m30s", `"x.y" == 'a-b.c'`, "1e-5 < a.errorRate", "probe(\"a\").lastOK"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		c, err := drill.Compile(src, []string{"a", "order-api"})
		if err == nil {
			_, _ = c.Eval(drill.Env{"a": {}, "order-api": {}})
		}
	})
}
