package drill

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// Metrics is what an expression sees of one probe over its window
// (contract 6): NAME.successRate, .errorRate, .p50, .p90, .p99, .lastOK.
// Latencies are durations: compare them with duration literals such as
// 500ms (Compile rewrites them to duration("500ms")).
type Metrics struct {
	SuccessRate float64       `expr:"successRate"`
	ErrorRate   float64       `expr:"errorRate"`
	P50         time.Duration `expr:"p50"`
	P90         time.Duration `expr:"p90"`
	P99         time.Duration `expr:"p99"`
	LastOK      bool          `expr:"lastOK"`
}

// MetricNames are the metrics an expression may name.
var MetricNames = []string{"successRate", "errorRate", "p50", "p90", "p99", "lastOK"}

// Env holds each probe's metrics, by probe name, for one evaluation.
type Env map[string]Metrics

// Condition is a compiled abort or verify expression. It is safe for
// concurrent use.
type Condition struct {
	// Source is the expression as written; Rewritten is what was compiled.
	Source, Rewritten string
	// Probes are the probes the expression reads, sorted.
	Probes  []string
	program *vm.Program
}

// CompileError is a problem with an expression at Offset, a rune offset
// into the source as written.
type CompileError struct {
	Offset  int
	Message string
}

// Error implements error.
func (e *CompileError) Error() string { return fmt.Sprintf("at offset %d: %s", e.Offset, e.Message) }

type exprEnv = map[string]any

// Compile rewrites NAME.metric to probe("NAME").metric and duration
// literals to duration("…") (contract 6), then compiles the result as a
// boolean expr-lang expression. Every probe named must be in probes.
func Compile(src string, probes []string) (*Condition, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &CompileError{0, "is empty"}
	}
	rw, err := rewrite(src, probes)
	if err != nil {
		return nil, err
	}
	env := exprEnv{"probe": func(string) (Metrics, error) { return Metrics{}, nil }}
	prog, err := expr.Compile(rw.text, expr.Env(env), expr.AsBool())
	if err != nil {
		ce := &CompileError{Message: err.Error()}
		var fe *file.Error
		if errors.As(err, &fe) {
			ce.Message = fe.Message
			ce.Offset = rw.origOffset(fe.From)
		}
		return nil, ce
	}
	if err := checkProbeCalls(prog, probes); err != nil {
		return nil, err
	}
	return &Condition{Source: src, Rewritten: rw.text, Probes: rw.probes, program: prog}, nil
}

// Eval evaluates the condition against env. A probe the expression reads
// that env lacks is an error.
func (c *Condition) Eval(env Env) (bool, error) {
	lookup := func(name string) (Metrics, error) {
		m, ok := env[name]
		if !ok {
			return Metrics{}, fmt.Errorf("no metrics for probe %q", name)
		}
		return m, nil
	}
	out, err := expr.Run(c.program, exprEnv{"probe": lookup})
	if err != nil {
		return false, fmt.Errorf("evaluate %q: %w", c.Source, err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("evaluate %q: result is %T, not a boolean", c.Source, out)
	}
	return b, nil
}

// checkProbeCalls makes sure probe("…") written out by hand names a known
// probe with a literal.
func checkProbeCalls(prog *vm.Program, probes []string) error {
	var bad error
	node := prog.Node()
	ast.Find(node, func(n ast.Node) bool {
		call, ok := n.(*ast.CallNode)
		if !ok || bad != nil {
			return false
		}
		if id, ok := call.Callee.(*ast.IdentifierNode); !ok || id.Value != "probe" {
			return false
		}
		if len(call.Arguments) != 1 {
			return false
		}
		if s, ok := call.Arguments[0].(*ast.StringNode); !ok {
			bad = &CompileError{0, "probe() takes a probe name in quotes"}
		} else if !slices.Contains(probes, s.Value) {
			bad = &CompileError{0, unknownProbe(s.Value, probes)}
		}
		return false
	})
	return bad
}

func unknownProbe(name string, probes []string) string {
	if len(probes) == 0 {
		return fmt.Sprintf("unknown probe %q (spec.steadyState defines none)", name)
	}
	return fmt.Sprintf("unknown probe %q (probes: %s)", name, strings.Join(probes, ", "))
}
