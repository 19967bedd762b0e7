package yamldoc

import (
	"encoding"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// maxNodes bounds the values decoded, aliases expanded, so that a small
// file of nested aliases cannot take exponential time.
const maxNodes = 100_000

// maxDepth bounds nesting so that a hostile file cannot exhaust the stack.
const maxDepth = 64

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

// Doc is one decoded document: the positions of its keys and values and
// the problems found so far. The caller adds its own checks with Errorf and
// ends with Err.
type Doc struct {
	file    string
	ix      *index
	probs   []Problem
	anchors map[string]ast.Node
	depth   int
	nodes   int
}

// Decode parses data (one YAML document; name is used in positions) into
// v, which must be a non-nil pointer to a struct. It never stops at the
// first problem; check Doc.Err after the caller's own checks.
func Decode(name string, data []byte, v any) *Doc {
	if name == "" {
		name = "document"
	}
	d := &Doc{file: filepath.ToSlash(name), ix: newIndex(), anchors: map[string]ast.Node{}}
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
	case len(bodies) > 1:
		d.at(posOf(bodies[1]), "", "one document per file: found %d", len(bodies))
		return d
	}
	ast.Walk(anchorCollector(d.anchors), bodies[0])
	d.decode(bodies[0], reflect.ValueOf(v).Elem(), "")
	return d
}

// File returns the name used in positions.
func (d *Doc) File() string { return d.file }

// Errorf records a problem at the value of path, or at the nearest
// ancestor the file has (a missing field is reported at its parent). A path
// the decoder already reported stays quiet, so one mistake gives one
// problem.
func (d *Doc) Errorf(path, format string, args ...any) {
	if d.ix.bad[path] {
		return
	}
	d.at(d.ix.value(path), path, format, args...)
}

// KeyErrorf records a problem at the key of path.
func (d *Doc) KeyErrorf(path, format string, args ...any) {
	d.at(d.ix.key(path), path, format, args...)
}

// Has reports whether the document gave a value at path.
func (d *Doc) Has(path string) bool { _, ok := d.ix.values[path]; return ok }

// Bad reports whether the value at path was already reported as malformed.
func (d *Doc) Bad(path string) bool { return d.ix.bad[path] }

// Err returns every problem as an *Error sorted by position, or nil.
func (d *Doc) Err() error {
	if len(d.probs) == 0 {
		return nil
	}
	return &Error{Problems: sortProblems(d.probs)}
}

func (d *Doc) at(pos position, path, format string, args ...any) {
	d.probs = append(d.probs, Problem{File: d.file, Line: pos.line, Column: pos.col, Path: path, Message: fmt.Sprintf(format, args...)})
}

// bad reports a value that could not be decoded; later checks of the same
// path stay quiet.
func (d *Doc) bad(n ast.Node, path, format string, args ...any) {
	d.at(posOf(n), path, format, args...)
	d.ix.bad[path] = true
}

func posOf(n ast.Node) position {
	switch m := n.(type) {
	case *ast.MappingNode:
		if !m.IsFlowStyle && len(m.Values) > 0 {
			return posOf(m.Values[0].Key)
		}
	case *ast.MappingValueNode:
		return posOf(m.Key)
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return position{}
	}
	return position{tk.Position.Line, tk.Position.Column}
}

// anchorCollector records every anchor in the document up front, so that
// an alias resolves even when its anchor sits under a field that is
// reported as unknown and never decoded.
type anchorCollector map[string]ast.Node

// Visit implements ast.Visitor.
func (a anchorCollector) Visit(n ast.Node) ast.Visitor {
	if an, ok := n.(*ast.AnchorNode); ok && an.Name != nil {
		a[an.Name.String()] = an.Value
	}
	return a
}

// resolve looks through tags, anchors and aliases.
func (d *Doc) resolve(n ast.Node, path string) ast.Node {
	for range maxDepth {
		switch t := n.(type) {
		case *ast.TagNode:
			n = t.Value
		case *ast.AnchorNode:
			n = t.Value
		case *ast.AliasNode:
			name := ""
			if t.Value != nil {
				name = t.Value.String()
			}
			target, ok := d.anchors[name]
			if !ok {
				d.at(posOf(n), path, "alias *%s has no anchor", name)
				return nil
			}
			n = target
		default:
			return n
		}
	}
	d.at(posOf(n), path, "aliases nested too deeply")
	return nil
}

// decode fills v (addressable) from n.
func (d *Doc) decode(n ast.Node, v reflect.Value, path string) {
	n = d.resolve(n, path)
	if n == nil {
		return
	}
	d.ix.values[path] = posOf(n)
	if _, null := n.(*ast.NullNode); null {
		return // absent: the zero value
	}
	if d.nodes++; d.nodes == maxNodes {
		d.at(posOf(n), path, "too many values (aliases expand to more than %d)", maxNodes)
	}
	if d.nodes >= maxNodes {
		return
	}
	if d.depth++; d.depth > maxDepth {
		d.at(posOf(n), path, "nested too deeply")
		d.depth--
		return
	}
	defer func() { d.depth-- }()
	switch {
	case v.Kind() == reflect.Pointer:
		nv := reflect.New(v.Type().Elem())
		d.decode(n, nv.Elem(), path)
		v.Set(nv)
	case v.Kind() == reflect.Struct && !reflect.PointerTo(v.Type()).Implements(textUnmarshalerType):
		d.decodeStruct(n, v, path)
	case v.Kind() == reflect.Slice:
		d.decodeSlice(n, v, path)
	case v.Kind() == reflect.Map:
		d.decodeMap(n, v, path)
	default:
		d.decodeScalar(n, v, path)
	}
}

func (d *Doc) mapping(n ast.Node, path string) ([]*ast.MappingValueNode, bool) {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}, true
	}
	d.bad(n, path, "must be a mapping, not %s", describe(n))
	return nil, false
}

// entries returns the key/value pairs of a mapping, reporting duplicate and
// non-scalar keys and merge keys.
func (d *Doc) entries(n ast.Node, path string) (keys []string, values []ast.Node) {
	mvs, ok := d.mapping(n, path)
	if !ok {
		return nil, nil
	}
	seen := map[string]bool{}
	for _, mv := range mvs {
		kpos := posOf(mv.Key)
		if mv.Key.GetToken() != nil && mv.Key.GetToken().Type == token.MergeKeyType {
			d.at(kpos, path, "merge keys (<<) are not supported")
			continue
		}
		key, ok := scalarText(mv.Key)
		if !ok {
			d.at(kpos, path, "keys must be plain text")
			continue
		}
		if seen[key] {
			d.at(kpos, Join(path, key), "given twice")
			continue
		}
		seen[key] = true
		d.ix.keys[Join(path, key)] = kpos
		keys, values = append(keys, key), append(values, mv.Value)
	}
	return keys, values
}

func (d *Doc) decodeStruct(n ast.Node, v reflect.Value, path string) {
	keys, values := d.entries(n, path)
	fields := yamlFields(v.Type())
	for i, key := range keys {
		idx, ok := fields[key]
		if !ok {
			d.KeyErrorf(Join(path, key), "unknown field %q (known: %s)", key, knownFields(v.Type()))
			continue
		}
		d.decode(values[i], v.FieldByIndex(idx), Join(path, key))
	}
}

func (d *Doc) decodeSlice(n ast.Node, v reflect.Value, path string) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.bad(n, path, "must be a list, not %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
	for i, item := range seq.Values {
		d.decode(item, s.Index(i), Elem(path, i))
	}
	v.Set(s)
}

// decodeMap fills a map with string keys; each value is decoded by its
// type. Paths of entries are path.key.
func (d *Doc) decodeMap(n ast.Node, v reflect.Value, path string) {
	if v.Type().Key().Kind() != reflect.String {
		d.bad(n, path, "internal: map key type %s is not supported", v.Type().Key())
		return
	}
	keys, values := d.entries(n, path)
	m := reflect.MakeMapWithSize(v.Type(), len(keys))
	for i, key := range keys {
		ev := reflect.New(v.Type().Elem()).Elem()
		d.decode(values[i], ev, Join(path, key))
		m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), ev)
	}
	v.Set(m)
}

// decodeScalar decodes a leaf: strings take any scalar's text; text
// unmarshalers parse themselves; numbers and booleans are decoded by
// goccy/go-yaml in strict mode.
func (d *Doc) decodeScalar(n ast.Node, v reflect.Value, path string) {
	text, ok := scalarText(n)
	if !ok {
		d.bad(n, path, "must be a plain value, not %s", describe(n))
		return
	}
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if err := u.UnmarshalText([]byte(text)); err != nil {
			d.bad(n, path, "%s", err)
		}
		return
	}
	if v.Kind() == reflect.String {
		v.SetString(text)
		return
	}
	_, isInt := n.(*ast.IntegerNode)
	switch v.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64, reflect.Uint32:
		if !isInt {
			d.bad(n, path, "%q is not %s", text, typeWord(v.Type()))
			return
		}
	}
	if err := yaml.NodeToValue(n, v.Addr().Interface(), yaml.Strict()); err != nil {
		d.bad(n, path, "%q is not %s", text, typeWord(v.Type()))
	}
}

func typeWord(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64, reflect.Uint32:
		return "a whole number"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Bool:
		return "true or false"
	}
	return "a " + t.String()
}

// scalarText returns a scalar node's value as written (unquoted).
func scalarText(n ast.Node) (string, bool) {
	switch s := n.(type) {
	case *ast.StringNode:
		return s.Value, true
	case *ast.LiteralNode:
		return s.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return n.GetToken().Value, true
	}
	return "", false
}

func describe(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	}
	if s, ok := scalarText(n); ok {
		return strconv.Quote(s)
	}
	return "a " + strings.ToLower(n.Type().String())
}

// yamlFields maps the yaml names of t's fields to their indexes.
func yamlFields(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			out[name] = t.Field(i).Index
		}
	}
	return out
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

func knownFields(t reflect.Type) string {
	var names []string
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
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
