package probe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

func init() {
	Register(Kind{Name: "load", NewConfig: func() Config { return &LoadConfig{} }})
}

// Bounds on a load probe's offered load.
const (
	maxLoadRate        = 1000
	maxLoadConcurrency = 256
)

// LoadConfig is a load probe: synthetic HTTP transactions at a fixed rate.
// Query-only in production-class environments: see the package documentation.
// Like a pooled client it always reuses its connections (up to
// Concurrency); HTTPConfig.KeepAlive is not consulted.
type LoadConfig struct {
	// HTTPConfig is the request each transaction sends and what counts as success.
	HTTPConfig `yaml:",inline"`
	// Rate is the number of transactions started per second (at most 1000).
	Rate float64 `json:"rate" yaml:"rate"`
	// Concurrency caps the transactions in flight (default: Rate × Timeout,
	// at least 1, at most 256).
	Concurrency int `json:"concurrency,omitempty" yaml:"concurrency,omitempty"`
}

// Validate implements Config.
func (c *LoadConfig) Validate() error {
	var errs []error
	if err := c.HTTPConfig.Validate(); err != nil {
		errs = append(errs, err)
	}
	if !(c.Rate > 0 && c.Rate <= maxLoadRate) {
		errs = append(errs, fmt.Errorf("rate: %v is not within (0, %d] per second", c.Rate, maxLoadRate))
	}
	if c.Concurrency < 0 || c.Concurrency > maxLoadConcurrency {
		errs = append(errs, fmt.Errorf("concurrency: %d is not within 0-%d", c.Concurrency, maxLoadConcurrency))
	}
	return errors.Join(errs...)
}

// Build implements Config.
func (c *LoadConfig) Build(name string, opts Options) (Probe, error) {
	conc := c.Concurrency
	if conc == 0 {
		timeout := c.Timeout.Std()
		if timeout == 0 {
			timeout = defaultTimeout
		}
		conc = int(math.Ceil(c.Rate * timeout.Seconds()))
		conc = min(max(conc, 1), maxLoadConcurrency)
	}
	h := &httpProbe{name: name, cfg: c.HTTPConfig, opts: opts, client: newHTTPClient(conc)}
	return &loadProbe{httpProbe: h, rate: c.Rate, conc: conc}, nil
}

type loadProbe struct {
	*httpProbe
	rate float64
	conc int
}

// Check sends one transaction.
func (p *loadProbe) Check(ctx context.Context) Result { return p.httpProbe.Check(ctx) }

// Stream implements Streamer with open-loop scheduling: transaction n is due
// at start + n/rate, whatever earlier transactions are doing.
func (p *loadProbe) Stream(ctx context.Context, emit func(Result)) error {
	interval := time.Duration(float64(time.Second) / p.rate)
	slots := make(chan struct{}, p.conc)
	var (
		wg sync.WaitGroup
		mu sync.Mutex // serialises emit
	)
	deliver := func(r Result) {
		mu.Lock()
		defer mu.Unlock()
		emit(r)
	}
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	start := time.Now()
	for n := 0; ; n++ {
		due := start.Add(time.Duration(n) * interval)
		timer.Reset(time.Until(due))
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		select {
		case slots <- struct{}{}:
		default:
			deliver(Result{Time: p.opts.now(), Err: fmt.Sprintf("dropped: %d transactions in flight", p.conc)})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			// A transaction that was offered is reported: it finishes under
			// its own timeout even when the stream is stopped.
			deliver(p.transaction(context.WithoutCancel(ctx), due))
		}()
	}
}

// transaction sends one request and measures it from when it was due, so
// scheduling delays count against the server (no coordinated omission).
func (p *loadProbe) transaction(ctx context.Context, due time.Time) Result {
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	r := Result{Time: p.opts.now().Add(-time.Since(due))}
	err := p.do(ctx)
	r.Latency = time.Since(due)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	r.OK = true
	return r
}

var (
	_ Config   = (*LoadConfig)(nil)
	_ Streamer = (*loadProbe)(nil)
)
