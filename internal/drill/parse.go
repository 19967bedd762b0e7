package drill

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
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
	ix := newIndex()
	ps := &problems{file: filepath.ToSlash(name), index: ix}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, &Error{Problems: []Problem{syntaxProblem(ps.file, err)}}
	}
	body, ok := document(f, ps)
	if !ok {
		return nil, &Error{Problems: ps.sorted()}
	}
	d := &Drill{}
	anchors := anchorCollector{}
	ast.Walk(anchors, body)
	dec := &decoder{probs: ps, index: ix, anchors: anchors}
	dec.decode(body, reflect.ValueOf(d).Elem(), "")
	(&validator{o: o, ps: ps, index: ix}).drill(d)
	var errs []Problem
	for _, p := range ps.sorted() {
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

// document returns the single document's body.
func document(f *ast.File, ps *problems) (ast.Node, bool) {
	var bodies []ast.Node
	for _, doc := range f.Docs {
		if doc != nil && doc.Body != nil {
			bodies = append(bodies, doc.Body)
		}
	}
	switch {
	case len(bodies) == 0:
		ps.at(position{}, "", "the file is empty")
		return nil, false
	case len(bodies) > 1:
		ps.at(posOf(bodies[1]), "", "one drill per file: found %d documents", len(bodies))
		return nil, false
	}
	return bodies[0], true
}
