package yamldoc

import (
	"encoding"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

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
	if nd, ok := v.Addr().Interface().(NodeDecoder); ok {
		nd.DecodeYAMLNode(Node{d: d, n: n, path: path})
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
// type, or read as text (ListsAsText). Paths of entries are path.key.
func (d *Doc) decodeMap(n ast.Node, v reflect.Value, path string) {
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		d.bad(n, path, "internal: map key type %s is not supported", t.Key())
		return
	}
	asText := d.opts.listsAsText && t.Elem().Kind() == reflect.String
	keys, values := d.entries(n, path)
	m := reflect.MakeMapWithSize(t, len(keys))
	for i, key := range keys {
		ev := reflect.New(t.Elem()).Elem()
		if asText {
			text, ok := d.text(values[i], Join(path, key))
			if !ok {
				continue
			}
			ev.SetString(text)
		} else {
			d.decode(values[i], ev, Join(path, key))
		}
		m.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), ev)
	}
	v.Set(m)
}

// text reads a map value under ListsAsText: a plain value's text as
// written, or a list of plain values joined by commas.
func (d *Doc) text(n ast.Node, path string) (string, bool) {
	n = d.resolve(n, path)
	if n == nil {
		return "", false
	}
	d.ix.values[path] = posOf(n)
	if s, ok := scalarText(n); ok {
		return s, true
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.bad(n, path, "must be a plain value or a list of them, not %s", describe(n))
		return "", false
	}
	parts := make([]string, 0, len(seq.Values))
	for i, item := range seq.Values {
		p := Elem(path, i)
		if item = d.resolve(item, p); item == nil {
			return "", false
		}
		s, ok := scalarText(item)
		if !ok {
			d.bad(item, p, "must be a plain value, not %s", describe(item))
			return "", false
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ","), true
}
