package yamldoc

import (
	"encoding"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

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
		d.noteText(n, path)
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

// noteText records where the text of a one-line string starts relative to
// its value's position (OffsetErrorf): at once if plain, after the quote if
// quoted. Block scalars are not noted.
func (d *Doc) noteText(n ast.Node, path string) {
	tk := n.GetToken()
	if tk == nil {
		return
	}
	switch tk.Type {
	case token.StringType:
		d.ix.text[path] = 0
	case token.DoubleQuoteType, token.SingleQuoteType:
		d.ix.text[path] = 1
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
		if name := FieldName(t.Field(i)); name != "" {
			out[name] = t.Field(i).Index
		}
	}
	return out
}

// FieldName returns the name a struct field has in a document (its yaml
// tag's name), or "" when the field is not decoded: unexported, untagged
// or tagged "-".
func FieldName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

func knownFields(t reflect.Type) string {
	var names []string
	for i := range t.NumField() {
		if name := FieldName(t.Field(i)); name != "" {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}
