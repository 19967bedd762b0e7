package policy

import (
	"embed"
	"fmt"
	"sort"
	"sync"

	"github.com/bulwarkhq/bulwark"
)

//go:embed defaults/*.yaml
var defaultsFS embed.FS

// Builtin returns the built-in policies: strict for production-class
// environments, permissive but capped for the others (defaults/*.yaml).
var Builtin = sync.OnceValues(func() (prod, other *Policy) {
	load := func(name string) *Policy {
		b, err := defaultsFS.ReadFile("defaults/" + name)
		if err != nil {
			panic(err)
		}
		p, err := Parse("builtin:"+name, b)
		if err != nil {
			panic(fmt.Sprintf("policy: built-in %s: %v", name, err))
		}
		return p
	}
	return load("production.yaml"), load("other.yaml")
})

// Set is the policies in force. It is immutable; build a new Set to
// change policies.
type Set struct {
	byEnv       map[string]*Policy
	prod, other *Policy
}

// NewSet checks that no environment is named by two policies and that each
// fallback class has at most one policy; classes without one fall back to
// Builtin.
func NewSet(policies ...*Policy) (*Set, error) {
	prod, other := Builtin()
	s := &Set{byEnv: map[string]*Policy{}, prod: prod, other: other}
	var setProd, setOther bool
	for _, p := range policies {
		for _, e := range p.File.Spec.Environments {
			if q, ok := s.byEnv[e]; ok {
				return nil, bulwark.Errorf(bulwark.EINVALID, "policies %s and %s both name environment %q", q.Name(), p.Name(), e)
			}
			s.byEnv[e] = p
		}
		switch p.File.Spec.Default {
		case DefaultProductionClass:
			if setProd {
				return nil, bulwark.Errorf(bulwark.EINVALID, "policies %s and %s are both the default for production-class environments", s.prod.Name(), p.Name())
			}
			s.prod, setProd = p, true
		case DefaultOther:
			if setOther {
				return nil, bulwark.Errorf(bulwark.EINVALID, "policies %s and %s are both the default for other environments", s.other.Name(), p.Name())
			}
			s.other, setOther = p, true
		}
	}
	return s, nil
}

// For returns the policy for env: the one naming it, else the default for
// its class. A nil Set gives the built-in policies.
func (s *Set) For(env bulwark.Environment) *Policy {
	if s == nil {
		prod, other := Builtin()
		if env.ProductionClass {
			return prod
		}
		return other
	}
	if p, ok := s.byEnv[env.Name]; ok {
		return p
	}
	if env.ProductionClass {
		return s.prod
	}
	return s.other
}

// All returns every policy in the set: those loaded, then the defaults in
// force for production-class and other environments (built-in ones
// included), each once.
func (s *Set) All() []*Policy {
	if s == nil {
		prod, other := Builtin()
		return []*Policy{prod, other}
	}
	var out []*Policy
	add := func(p *Policy) {
		for _, q := range out {
			if q == p {
				return
			}
		}
		out = append(out, p)
	}
	names := make([]string, 0, len(s.byEnv))
	for e := range s.byEnv {
		names = append(names, e)
	}
	sort.Strings(names)
	for _, e := range names {
		add(s.byEnv[e])
	}
	add(s.prod)
	add(s.other)
	return out
}
