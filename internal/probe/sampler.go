package probe

import (
	"context"
	"sync"
	"time"
)

// Sampler runs one probe on a schedule in a goroutine it owns and delivers
// each Result to a callback. Checks never overlap: a check that outlasts the
// interval delays the next one (ticks are dropped, not queued). A Streamer
// probe (load) produces its own schedule and the interval is unused.
type Sampler struct {
	probe    Probe
	interval time.Duration
	deliver  func(Result)

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// DefaultInterval is the sampling interval used when none is given.
const DefaultInterval = time.Second

// NewSampler returns a sampler that checks p every interval (DefaultInterval
// when interval ≤ 0) and calls deliver with each Result, from the sampler's
// goroutine (never concurrently).
func NewSampler(p Probe, interval time.Duration, deliver func(Result)) *Sampler {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Sampler{probe: p, interval: interval, deliver: deliver}
}

// Start starts sampling under ctx: the first check happens at once. The
// sampler stops when ctx is done or Stop is called. Start on a started
// sampler does nothing.
func (s *Sampler) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done != nil {
		return
	}
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		s.run(ctx)
	}()
}

// Stop stops sampling and waits for the goroutine to finish: a check in
// progress is cancelled and not delivered; a Streamer's transactions in
// flight finish (within the probe's timeout) and are delivered. It is
// idempotent; the probe is not closed.
func (s *Sampler) Stop() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if done == nil {
		return
	}
	cancel()
	<-done
}

// Done is closed when the sampler's goroutine has ended; nil before Start.
func (s *Sampler) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

func (s *Sampler) run(ctx context.Context) {
	if st, ok := s.probe.(Streamer); ok {
		_ = st.Stream(ctx, s.deliver) // Stream returns nil when ctx ends it
		return
	}
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		r := s.probe.Check(ctx)
		if ctx.Err() != nil {
			return // a check cut short by Stop says nothing about the system
		}
		s.deliver(r)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
