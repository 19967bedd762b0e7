package server

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
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

// exact returns the halt of exactly scope.
func (b *haltBook) exact(scope HaltScope) (Halt, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	h, ok := b.halts[scope]
	return h, ok
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

// HaltStore persists halts, so that a restarted server keeps blocking.
type HaltStore interface {
	PutHalt(ctx context.Context, h sqlite.HaltRecord) error
	DeleteHalt(ctx context.Context, system, environment string) error
	Halts(ctx context.Context) ([]sqlite.HaltRecord, error)
}

// SubmissionStore persists run submissions waiting for an approval.
type SubmissionStore interface {
	PutSubmission(ctx context.Context, sub sqlite.Submission) error
	Submissions(ctx context.Context, state string) ([]sqlite.Submission, error)
}

// LoadState reads what the server keeps across restarts — the halts in
// force and the runs waiting for an approval; `bulwark server` calls it
// once before it serves.
func (s *Server) LoadState(ctx context.Context) error {
	if err := s.LoadHalts(ctx); err != nil {
		return err
	}
	return s.runs.load(ctx)
}

// LoadHalts reads the halts in force from the store into the server's
// book.
func (s *Server) LoadHalts(ctx context.Context) error {
	s.Handler()
	if s.HaltStore == nil {
		return nil
	}
	hs, err := s.HaltStore.Halts(ctx)
	if err != nil {
		return err
	}
	for _, h := range hs {
		s.halts.add(Halt{Scope: HaltScope{System: h.System, Environment: h.Environment}, Since: h.Since, By: h.By})
	}
	s.metrics.halts.Set(float64(len(s.halts.list())))
	return nil
}

// persistHalt writes a halt after it took effect; a store that is down
// is logged, not fatal: the halt already acts in this process.
func (s *Server) persistHalt(ctx context.Context, h Halt) {
	if s.HaltStore == nil {
		return
	}
	rec := sqlite.HaltRecord{System: h.Scope.System, Environment: h.Scope.Environment, Since: h.Since, By: h.By}
	if err := s.HaltStore.PutHalt(context.WithoutCancel(ctx), rec); err != nil {
		s.Logger.Error("halt in force but not persisted: a restarted server would not block this scope", "scope", h.Scope.String(), "err", err)
	}
}
