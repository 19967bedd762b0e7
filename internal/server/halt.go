package server

import (
	"sort"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// HaltScope is what a halt covers: everything (both empty), one system or
// one environment (DESIGN §6.3).
type HaltScope struct {
	System      string `json:"system,omitempty"`
	Environment string `json:"environment,omitempty"`
}

// Covers reports whether a halt of s covers a host of system sys in
// environment env.
func (s HaltScope) Covers(sys, env string) bool {
	return (s.System == "" || s.System == sys) && (s.Environment == "" || s.Environment == env)
}

// Resource is the scope as an authorisation resource.
func (s HaltScope) Resource() bulwark.Resource {
	return bulwark.Resource{System: s.System, Environment: s.Environment}
}

// String names the scope for messages.
func (s HaltScope) String() string {
	switch {
	case s.System == "" && s.Environment == "":
		return "everything"
	case s.Environment == "":
		return "system " + s.System
	case s.System == "":
		return "environment " + s.Environment
	}
	return "system " + s.System + " in environment " + s.Environment
}

// Halt is one active halt.
type Halt struct {
	Scope HaltScope         `json:"scope"`
	Since time.Time         `json:"since"`
	By    bulwark.Principal `json:"by"`
}

// haltBook holds the active halts in memory, so that blocking new work
// never depends on the database (DESIGN §6.3: halt works while the store is
// down). The book is the authority within a process.
type haltBook struct {
	mu    sync.RWMutex
	halts map[HaltScope]Halt
}

func newHaltBook() *haltBook { return &haltBook{halts: map[HaltScope]Halt{}} }

// add records h; a second halt of the same scope keeps the first's time.
func (b *haltBook) add(h Halt) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.halts[h.Scope]; !ok {
		b.halts[h.Scope] = h
	}
}

// remove lifts the halt of exactly scope and reports whether there was one.
func (b *haltBook) remove(scope HaltScope) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.halts[scope]
	delete(b.halts, scope)
	return ok
}

// blocking returns the first halt that covers a host of sys in env.
func (b *haltBook) blocking(sys, env string) (Halt, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, h := range b.halts {
		if h.Scope.Covers(sys, env) {
			return h, true
		}
	}
	return Halt{}, false
}

// list returns the active halts, oldest first.
func (b *haltBook) list() []Halt {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]Halt, 0, len(b.halts))
	for _, h := range b.halts {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out
}
