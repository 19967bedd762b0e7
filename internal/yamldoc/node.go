package yamldoc

import (
	"reflect"

	"github.com/goccy/go-yaml/ast"
)

// NodeDecoder is implemented by types that decode themselves because one
// field takes values of different shapes (a drill's from: is local or a
// selector). Decode calls DecodeYAMLNode on a pointer to the field, with
// tags, anchors and aliases already resolved and null already skipped.
type NodeDecoder interface {
	DecodeYAMLNode(n Node)
}

// Node is a value being decoded, handed to a NodeDecoder.
type Node struct {
	d    *Doc
	n    ast.Node
	path string
}

// Text returns the value's text as written if it is a plain value (not a
// mapping or a list).
func (n Node) Text() (string, bool) { return scalarText(n.n) }

// Decode decodes the value into v, a non-nil pointer, as Decode would.
func (n Node) Decode(v any) { n.d.decode(n.n, reflect.ValueOf(v).Elem(), n.path) }

// Errorf records a problem at the value; later checks of its path stay
// quiet.
func (n Node) Errorf(format string, args ...any) { n.d.bad(n.n, n.path, format, args...) }
