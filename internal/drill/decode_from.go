package drill

import (
	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/yamldoc"
)

// DecodeYAMLNode reads "local" or a selector (yamldoc.NodeDecoder).
func (f *From) DecodeYAMLNode(n yamldoc.Node) {
	if s, ok := n.Text(); ok {
		if s != "local" {
			n.Errorf("%q is neither local nor a selector {labels: …, mode: …}", s)
		}
		f.Local = true
		return
	}
	f.Selector = &bulwark.Selector{}
	n.Decode(f.Selector)
}
