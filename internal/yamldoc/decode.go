package yamldoc

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Doc is one decoded document: the positions of its keys and values and
// the problems found so far. The caller adds its own checks with Errorf and
// ends with Err.
type Doc struct {
	file    string
	opts    options
	ix      *index
	probs   []Problem
	anchors map[string]ast.Node
	decoded bool
	depth   int
	nodes   int
}

// Option changes how Decode reads a document.
type Option func(*options)

type options struct {
	noun        string
	listsAsText bool
}

// Noun names what a document is, in the problem reported for a file of
// several documents: Noun("drill") gives "one drill per file: found 2
// documents". Without it: "one document per file: found 2".
func Noun(noun string) Option { return func(o *options) { o.noun = noun } }

// ListsAsText makes every map of strings take, for a value, either a plain
// value's text as written or a list of plain values as one comma-separated
// text, as on the command line (a drill's params: {ports: [80, 443]}).
// Anything else, null included, is a problem. Without it a map's values
// decode like any other value of their type.
func ListsAsText() Option { return func(o *options) { o.listsAsText = true } }

// Decode parses data (one YAML document; name is used in positions) into
// v, which must be a non-nil pointer to a struct. It never stops at the
// first problem; check Doc.Err after the caller's own checks.
func Decode(name string, data []byte, v any, opts ...Option) *Doc {
	if name == "" {
		name = "document"
	}
	d := &Doc{file: filepath.ToSlash(name), ix: newIndex(), anchors: map[string]ast.Node{}}
	for _, o := range opts {
		o(&d.opts)
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		d.probs = append(d.probs, syntaxProblem(d.file, err))
		return d
	}
	var bodies []ast.Node
	for _, doc := range f.Docs {
		if doc != nil && doc.Body != nil {
			bodies = append(bodies, doc.Body)
		}
	}
	switch {
	case len(bodies) == 0:
		d.at(position{}, "", "the file is empty")
		return d
	case len(bodies) > 1 && d.opts.noun != "":
		d.at(posOf(bodies[1]), "", "one %s per file: found %d documents", d.opts.noun, len(bodies))
		return d
	case len(bodies) > 1:
		d.at(posOf(bodies[1]), "", "one document per file: found %d", len(bodies))
		return d
	}
	ast.Walk(anchorCollector(d.anchors), bodies[0])
	d.decoded = true
	d.decode(bodies[0], reflect.ValueOf(v).Elem(), "")
	return d
}

// File returns the name used in positions.
func (d *Doc) File() string { return d.file }

// Decoded reports whether the document was read into the value at all:
// false after a syntax error, for an empty file or for a file of several
// documents, where the value is left zero and its checks would only add
// noise.
func (d *Doc) Decoded() bool { return d.decoded }

// Errorf records a problem at the value of path, or at the nearest
// ancestor the file has (a missing field is reported at its parent), and
// returns it. A path the decoder already reported stays quiet, so one
// mistake gives one problem: then nothing is recorded and ok is false.
func (d *Doc) Errorf(path, format string, args ...any) (p Problem, ok bool) {
	if d.ix.bad[path] {
		return Problem{}, false
	}
	return d.at(d.ix.value(path), path, format, args...), true
}

// KeyErrorf records a problem at the key of path.
func (d *Doc) KeyErrorf(path, format string, args ...any) {
	d.at(d.ix.key(path), path, format, args...)
}

// OffsetErrorf records a problem at byte offset within the text of the
// plain value at path, such as a column inside an expression, when that
// value was written on one line, plain or quoted; otherwise at the value.
// It is recorded even if the decoder reported the path.
func (d *Doc) OffsetErrorf(path string, offset int, format string, args ...any) {
	pos := d.ix.value(path)
	if start, ok := d.ix.text[path]; ok {
		pos.col += start + offset
	}
	d.at(pos, path, format, args...)
}

// Has reports whether the document gave a value at path.
func (d *Doc) Has(path string) bool { _, ok := d.ix.values[path]; return ok }

// Bad reports whether the value at path was already reported as malformed.
func (d *Doc) Bad(path string) bool { return d.ix.bad[path] }

// Problems returns every problem so far, sorted by position, without
// exact duplicates.
func (d *Doc) Problems() []Problem { return sortProblems(d.probs) }

// Err returns every problem as an *Error sorted by position, or nil.
func (d *Doc) Err() error {
	if len(d.probs) == 0 {
		return nil
	}
	return &Error{Problems: d.Problems()}
}

func (d *Doc) at(pos position, path, format string, args ...any) Problem {
	p := Problem{File: d.file, Line: pos.line, Column: pos.col, Path: path, Message: fmt.Sprintf(format, args...)}
	d.probs = append(d.probs, p)
	return p
}

// bad reports a value that could not be decoded; later checks of the same
// path stay quiet.
func (d *Doc) bad(n ast.Node, path, format string, args ...any) {
	d.at(posOf(n), path, format, args...)
	d.ix.bad[path] = true
}

// syntaxProblem turns a goccy/go-yaml parse error into a positioned problem.
func syntaxProblem(file string, err error) Problem {
	p := Problem{File: file, Message: err.Error()}
	var ye yaml.Error
	if errors.As(err, &ye) {
		p.Message = ye.GetMessage()
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			p.Line, p.Column = tk.Position.Line, tk.Position.Column
		}
	}
	return p
}
