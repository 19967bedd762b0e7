package probe_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/probe"
)

// countingProbe succeeds on every check and counts them.
type countingProbe struct{ n atomic.Int64 }

func (p *countingProbe) Name() string { return "count" }
func (p *countingProbe) Close() error { return nil }
func (p *countingProbe) Check(ctx context.Context) probe.Result {
	p.n.Add(1)
	return probe.Result{Time: time.Now(), OK: true, Latency: time.Millisecond}
}

func TestSamplerInterval(t *testing.T) {
	p := &countingProbe{}
	w := probe.NewWindow(0, nil)
	s := probe.NewSampler(p, 20*time.Millisecond, w.Add)
	s.Start(context.Background())
	s.Start(context.Background()) // no second goroutine
	time.Sleep(210 * time.Millisecond)
	s.Stop()
	s.Stop()
	n := w.Metrics().Count
	// First check at once, then every 20 ms: about 11 in 210 ms.
	if n < 8 || n > 12 {
		t.Fatalf("%d samples in 210ms at 20ms, want about 11", n)
	}
	if int64(n) != p.n.Load() {
		t.Errorf("delivered %d of %d checks", n, p.n.Load())
	}
	time.Sleep(50 * time.Millisecond)
	if w.Metrics().Count != n {
		t.Error("samples delivered after Stop")
	}
}

func TestSamplerStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := probe.NewSampler(&countingProbe{}, time.Hour, func(probe.Result) {})
	s.Start(ctx)
	cancel()
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("sampler did not stop when its context ended")
	}
	s.Stop()
}

// slowProbe blocks until ctx ends: Stop must cancel a check in progress.
type slowProbe struct{ countingProbe }

func (p *slowProbe) Check(ctx context.Context) probe.Result {
	<-ctx.Done()
	return probe.Result{Err: ctx.Err().Error()}
}

func TestSamplerStopCancelsCheck(t *testing.T) {
	var mu sync.Mutex
	var got []probe.Result
	s := probe.NewSampler(&slowProbe{}, time.Millisecond, func(r probe.Result) {
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
	})
	s.Start(context.Background())
	time.Sleep(20 * time.Millisecond)
	done := make(chan struct{})
	go func() { s.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 0 {
		t.Fatalf("a check cut short by Stop was delivered: %+v", got)
	}
}
