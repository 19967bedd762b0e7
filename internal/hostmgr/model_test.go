package hostmgr_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/journal"
)

// TestModel runs random sequences of inject, recover, crash, sweep and expiry
// against the manager and checks after every step that the host agrees with
// the journal, and at the end that a sweep returns the host to its baseline.
func TestModel(t *testing.T) {
	seeds := 12
	if testing.Short() {
		seeds = 3
	}
	for seed := range uint64(seeds) {
		t.Run("", func(t *testing.T) { runModel(t, seed) })
	}
}

func runModel(t *testing.T, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 42))
	m, state, dir := mustOpen(t)
	t.Cleanup(func() {
		failures.Lock()
		delete(failures.recover, dir)
		failures.Unlock()
	})
	var ids []string
	for step := range 60 {
		switch op := rng.IntN(8); op {
		case 0, 1:
			f, err := m.Inject(ctx, spec(dir, time.Duration(10+rng.IntN(150))*time.Millisecond))
			if err != nil {
				t.Fatalf("seed %d step %d inject: %v", seed, step, err)
			}
			ids = append(ids, f.ID)
		case 2:
			if len(ids) > 0 {
				m.Recover(ctx, ids[rng.IntN(len(ids))]) // may end stuck: that is part of the model
			}
		case 3:
			m.Sweep(ctx)
		case 4:
			time.Sleep(time.Duration(rng.IntN(60)) * time.Millisecond)
		case 5: // crash between operations
			m.Close()
			m = reopen(t, state)
		case 6: // crash at a crash point: rewrite a live record's state as a crash there leaves it
			if len(ids) > 0 {
				m.Close()
				crashAt(t, state, dir, ids[rng.IntN(len(ids))], rng)
				m = reopen(t, state)
			}
		case 7: // the next recovery attempt of this directory fails
			failures.Lock()
			failures.recover[dir] = 1
			failures.Unlock()
		}
		checkAgrees(t, m, dir)
	}
	failures.Lock()
	delete(failures.recover, dir)
	failures.Unlock()
	time.Sleep(200 * time.Millisecond)
	m.Sweep(ctx)
	if _, err := m.RecoverAll(ctx); err != nil { // stuck faults are retried at once
		t.Fatal(err)
	}
	if live, _ := m.Faults(ctx, bulwark.FaultFilter{Live: true}); len(live) != 0 {
		t.Fatalf("seed %d: %d live faults after the final sweep", seed, len(live))
	}
	if left := markers(t, dir); len(left) != 0 {
		t.Fatalf("seed %d: host differs from its baseline: %v", seed, left)
	}
}

// crashAt leaves a record as a SIGKILL at one of the crash points would:
// journaled but not applied, applied but not marked active, or half recovered.
func crashAt(t *testing.T, state, dir, id string, rng *rand.Rand) {
	j, err := journal.Open(filepath.Join(state, "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	r, _ := j.Get(id)
	if !r.Fault.State.Live() {
		return
	}
	marker := filepath.Join(dir, id)
	switch rng.IntN(3) {
	case 0: // journaled, not applied
		r.Fault.State = bulwark.StateInjecting
		os.Remove(marker)
	case 1: // applied, not marked
		r.Fault.State = bulwark.StateInjecting
		os.WriteFile(marker, []byte("x"), 0o600)
	case 2: // half recovered
		r.Fault.State = bulwark.StateRecovering
		if rng.IntN(2) == 0 {
			os.Remove(marker)
		}
	}
	if err := j.Put(r); err != nil {
		t.Fatal(err)
	}
}

// checkAgrees: an ended fault has no marker; an active fault that has not
// expired has one.
func checkAgrees(t *testing.T, m interface {
	Faults(context.Context, bulwark.FaultFilter) ([]*bulwark.Fault, error)
}, dir string) {
	t.Helper()
	faults, _ := m.Faults(context.Background(), bulwark.FaultFilter{})
	for _, f := range faults {
		_, err := os.Stat(filepath.Join(dir, f.ID))
		exists := err == nil
		switch {
		case !f.State.Live() && exists:
			t.Fatalf("fault %s is %s but its marker is there", f.ID, f.State)
		case f.State == bulwark.StateActive && time.Now().Before(*f.ExpiresAt) && !exists:
			t.Fatalf("fault %s is active but its marker is gone", f.ID)
		}
	}
}
