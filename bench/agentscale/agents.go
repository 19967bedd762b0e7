package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/internal/agentgw/agentsim"
	"github.com/bulwarkhq/bulwark/internal/pki"
)

// runAgents is the child: it enrols o.n agents, o.parallel at a time, and
// keeps each one's session open, reconnecting with jittered backoff, until
// the parent kills it.
func runAgents(ctx context.Context, o options) error {
	ca, err := pki.ReadCert(o.caFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	sem := make(chan struct{}, o.parallel)
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for i := range o.n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := agentsim.Enrol(ctx, o.addr, roots, o.token, fmt.Sprintf("sim-%05d", i), map[string]string{"rack": fmt.Sprintf("u%d", i%40)})
			<-sem
			if err != nil {
				select {
				case errs <- err:
				default:
				}
				return
			}
			hold(ctx, a, o.heartbeat)
		}()
	}
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	wg.Wait()
	return nil
}

// hold keeps a session open for good.
func hold(ctx context.Context, a *agentsim.Agent, heartbeat time.Duration) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		start := time.Now()
		_ = a.Run(ctx, heartbeat)
		if time.Since(start) > 5*time.Second {
			backoff = 100 * time.Millisecond
		}
		time.Sleep(backoff/2 + rand.N(backoff/2+1))
		backoff = min(backoff*2, 5*time.Second)
	}
}
