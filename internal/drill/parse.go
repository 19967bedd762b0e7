package drill

import (
	"fmt"
	"os"

	"github.com/bulwarkhq/bulwark/internal/yamldoc"
)

// Options change how Parse validates.
type Options struct {
	// ForServer validates for a run through the server: a probe against a
	// loopback address must say where it runs (from:), and an argv action
	// must name the agents it runs on (on:), since nothing runs on the
	// server itself (contract 2, DESIGN §6.9).
	ForServer bool
	// Scenario resolves a scenario id; nil means there is no library yet
	// and every scenario reference is unknown.
	Scenario func(id string) bool
	// AllowUnknownScenarios turns "unknown scenario" problems into
	// warnings (Drill.Warnings) instead of errors.
	AllowUnknownScenarios bool
}

// Option sets an Option.
type Option func(*Options)

// ForServer validates for a run through the server (Options.ForServer).
func ForServer() Option { return func(o *Options) { o.ForServer = true } }

// WithScenarios resolves scenario ids with fn (Options.Scenario).
func WithScenarios(fn func(id string) bool) Option { return func(o *Options) { o.Scenario = fn } }

// AllowUnknownScenarios reports unknown scenarios as warnings
// (Options.AllowUnknownScenarios).
func AllowUnknownScenarios() Option { return func(o *Options) { o.AllowUnknownScenarios = true } }

// ParseFile reads and parses the drill file at path; problems name the
// path as given.
func ParseFile(path string, opts ...Option) (*Drill, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read drill file: %w", err)
	}
	return Parse(path, data, opts...)
}

// Parse decodes and validates one drill file. name is used in problem
// positions (usually the path). It returns every problem it finds as an
// *Error; a returned *Drill is complete, with defaults filled in.
func Parse(name string, data []byte, opts ...Option) (*Drill, error) {
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	if name == "" {
		name = "drill"
	}
	d := &Drill{}
	doc := yamldoc.Decode(name, data, d, yamldoc.Noun("drill"), yamldoc.ListsAsText())
	v := &validator{o: o, doc: doc, unknownScenarios: map[yamldoc.Problem]bool{}}
	if doc.Decoded() {
		v.drill(d)
	}
	var errs []Problem
	for _, yp := range doc.Problems() {
		p := Problem{Problem: yp, UnknownScenario: v.unknownScenarios[yp]}
		if p.UnknownScenario && o.AllowUnknownScenarios {
			d.Warnings = append(d.Warnings, p)
			continue
		}
		errs = append(errs, p)
	}
	if len(errs) > 0 {
		return nil, &Error{Problems: errs}
	}
	return d, nil
}
