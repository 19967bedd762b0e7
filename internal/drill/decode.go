package drill

import (
	"encoding"
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/bulwarkhq/bulwark"
)

// decoder turns a YAML node tree into the drill types. It walks mappings
// and sequences itself so that it can report every unknown field and bad
// value at once, each with its path, instead of stopping at the first as a
// whole-document decode does; scalars are decoded by goccy/go-yaml in strict
// mode. It records the position of every key and value in the index.
type decoder struct {
	probs   *problems
	index   *index
	anchors map[string]ast.Node
	depth   int
	nodes   int
}

// maxNodes bounds the values decoded, aliases expanded, so that a small
// file of nested aliases cannot take exponential time.
const maxNodes = 100_000

// maxDepth bounds nesting so that a hostile file cannot exhaust the stack.
const maxDepth = 64

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

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
func (d *decoder) resolve(n ast.Node, path string) ast.Node {
	for range maxDepth {
		switch t := n.(type) {
		case *ast.TagNode:
			n = t.Value
		case *ast.AnchorNode:
			if t.Name != nil {
				d.anchors[t.Name.String()] = t.Value
			}
			n = t.Value
		case *ast.AliasNode:
			name := ""
			if t.Value != nil {
				name = t.Value.String()
			}
			target, ok := d.anchors[name]
			if !ok {
				d.probs.at(posOf(n), path, "alias *%s has no anchor before it", name)
				return nil
			}
			n = target
		default:
			return n
		}
	}
	return n
}

// decode fills v (addressable) from n.
func (d *decoder) decode(n ast.Node, v reflect.Value, path string) {
	n = d.resolve(n, path)
	if n == nil {
		return
	}
	d.index.values[path] = posOf(n)
	if _, null := n.(*ast.NullNode); null {
		return // absent: the zero value
	}
	if d.nodes++; d.nodes == maxNodes {
		d.probs.at(posOf(n), path, "too many values (aliases expand to more than %d)", maxNodes)
	}
	if d.nodes >= maxNodes {
		return
	}
	if d.depth++; d.depth > maxDepth {
		d.probs.at(posOf(n), path, "nested too deeply")
		d.depth--
		return
	}
	defer func() { d.depth-- }()
	if cd, ok := v.Addr().Interface().(nodeDecoder); ok {
		cd.decodeNode(d, n, path)
		return
	}
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

// bad reports a value that could not be decoded; later checks of the same
// path stay quiet, so that one mistake gives one problem.
func (d *decoder) bad(n ast.Node, path, format string, args ...any) {
	d.probs.at(posOf(n), path, format, args...)
	d.index.bad[path] = true
}

// nodeDecoder is implemented by types that decode themselves (From).
type nodeDecoder interface {
	decodeNode(d *decoder, n ast.Node, path string)
}

func (d *decoder) mapping(n ast.Node, path string) ([]*ast.MappingValueNode, bool) {
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
func (d *decoder) entries(n ast.Node, path string) (keys []string, values []ast.Node) {
	mvs, ok := d.mapping(n, path)
	if !ok {
		return nil, nil
	}
	seen := map[string]bool{}
	for _, mv := range mvs {
		key, kpos := "", posOf(mv.Key)
		if s, ok := scalarText(mv.Key); ok {
			key = s
		} else {
			d.probs.at(kpos, path, "keys must be plain text")
			continue
		}
		if mv.Key.GetToken() != nil && mv.Key.GetToken().Type == token.MergeKeyType {
			d.probs.at(kpos, path, "merge keys (<<) are not supported")
			continue
		}
		if seen[key] {
			d.probs.at(kpos, join(path, key), "given twice")
			continue
		}
		seen[key] = true
		d.index.keys[join(path, key)] = kpos
		keys, values = append(keys, key), append(values, mv.Value)
	}
	return keys, values
}

func (d *decoder) decodeStruct(n ast.Node, v reflect.Value, path string) {
	keys, values := d.entries(n, path)
	fields := yamlFields(v.Type())
	for i, key := range keys {
		idx, ok := fields[key]
		if !ok {
			d.probs.addKey(join(path, key), "unknown field %q (known: %s)", key, knownFields(v.Type()))
			continue
		}
		d.decode(values[i], v.FieldByIndex(idx), join(path, key))
	}
}

func (d *decoder) decodeSlice(n ast.Node, v reflect.Value, path string) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.bad(n, path, "must be a list, not %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
	for i, item := range seq.Values {
		d.decode(item, s.Index(i), elem(path, i))
	}
	v.Set(s)
}

// decodeMap fills a map[string]string. Scalars keep their text as written;
// a list of scalars becomes comma-separated text, as on the command line.
func (d *decoder) decodeMap(n ast.Node, v reflect.Value, path string) {
	keys, values := d.entries(n, path)
	m := reflect.MakeMapWithSize(v.Type(), len(keys))
	for i, key := range keys {
		p := join(path, key)
		val := d.resolve(values[i], p)
		if val == nil {
			continue
		}
		d.index.values[p] = posOf(val)
		text, ok := d.text(val, p)
		if ok {
			m.SetMapIndex(reflect.ValueOf(key), reflect.ValueOf(text))
		}
	}
	v.Set(m)
}

func (d *decoder) text(n ast.Node, path string) (string, bool) {
	if s, ok := scalarText(n); ok {
		return s, true
	}
	if seq, ok := n.(*ast.SequenceNode); ok {
		parts := make([]string, 0, len(seq.Values))
		for i, item := range seq.Values {
			s, ok := scalarText(d.resolve(item, elem(path, i)))
			if !ok {
				d.probs.at(posOf(item), elem(path, i), "must be a plain value, not %s", describe(item))
				return "", false
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), true
	}
	d.probs.at(posOf(n), path, "must be a plain value or a list of them, not %s", describe(n))
	return "", false
}

// decodeScalar decodes a leaf: strings take any scalar's text; numbers,
// booleans and the bulwark unit types are decoded by goccy/go-yaml in
// strict mode, with the unit parsers' own messages.
func (d *decoder) decodeScalar(n ast.Node, v reflect.Value, path string) {
	text, ok := scalarText(n)
	if !ok {
		d.probs.at(posOf(n), path, "must be a plain value, not %s", describe(n))
		return
	}
	if v.Kind() == reflect.String && !reflect.PointerTo(v.Type()).Implements(textUnmarshalerType) {
		if tk := n.GetToken(); tk != nil {
			switch tk.Type {
			case token.StringType:
				d.index.plain[path] = true
			case token.DoubleQuoteType, token.SingleQuoteType:
				d.index.quoted[path] = true
			}
		}
		v.SetString(text)
		return
	}
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if err := u.UnmarshalText([]byte(text)); err != nil {
			d.bad(n, path, "%s", err)
		}
		return
	}
	_, isInt := n.(*ast.IntegerNode)
	switch v.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
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
	case reflect.Int, reflect.Int64, reflect.Int32:
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

// decodeNode reads "local" or a selector.
func (f *From) decodeNode(d *decoder, n ast.Node, path string) {
	if s, ok := scalarText(n); ok {
		if s != "local" {
			d.probs.at(posOf(n), path, "%q is neither local nor a selector {labels: …, mode: …}", s)
		}
		f.Local = true
		return
	}
	f.Selector = &bulwark.Selector{}
	d.decode(n, reflect.ValueOf(f.Selector).Elem(), path)
}
