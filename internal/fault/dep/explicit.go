package dep

import (
	"fmt"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/proxy"
)

// ProxyFault decodes a dep.* fault spec with the kind's own schema and
// returns the fault for an explicit proxy (`bulwark proxy`, `bulwark demo`),
// so explicit and transparent mode accept exactly the same parameters. The
// target parameter is checked but is the caller's to honour: an explicit
// proxy has one upstream.
func ProxyFault(spec bulwark.FaultSpec, id string) (proxy.Fault, error) {
	k, err := fault.Lookup(spec.Kind)
	if err != nil {
		return proxy.Fault{}, err
	}
	values := map[string]string{}
	for n, v := range spec.Params {
		values[n] = v
	}
	for n, v := range spec.Target {
		values[n] = v
	}
	decoded, err := fault.Decode(k.Info(), values)
	if err != nil {
		return proxy.Fault{}, err
	}
	p, ok := decoded.(params)
	if !ok {
		return proxy.Fault{}, fmt.Errorf("%s is not a dependency fault", spec.Kind)
	}
	return proxyFault(p, id)
}

// Target returns the decoded target of a dep.* spec, HOST:PORT.
func Target(spec bulwark.FaultSpec) string {
	if t := spec.Target["address"]; t != "" {
		return t
	}
	if t := spec.Target["target"]; t != "" {
		return t
	}
	return spec.Params["target"]
}
