package audit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// maybeCheckpoint writes a checkpoint at head when CheckpointEvery entries
// or CheckpointInterval have passed since the last one. A failure is logged
// and retried on the next Record: the entries are already stored.
func (l *Log) maybeCheckpoint(ctx context.Context, head Entry) {
	if l.opts.Key == nil {
		return
	}
	last, err := l.lastCheckpoint(ctx)
	if err != nil {
		l.opts.Logger.Warn("audit checkpoint not written", "err", err)
		return
	}
	lastSeq := int64(0)
	if last != nil {
		lastSeq = last.Seq
	}
	due := head.Seq-lastSeq >= int64(l.opts.CheckpointEvery) ||
		(head.Seq > lastSeq && l.opts.Now().Sub(l.lastCPTime) >= l.opts.CheckpointInterval)
	if !due {
		return
	}
	if _, err := l.writeCheckpoint(ctx, Head{Seq: head.Seq, Hash: head.Hash}); err != nil {
		l.opts.Logger.Warn("audit checkpoint not written", "seq", head.Seq, "err", err)
	}
}

// lastCheckpoint returns the newest stored checkpoint (nil if none),
// reading the store once.
func (l *Log) lastCheckpoint(ctx context.Context) (*Checkpoint, error) {
	if l.lastCP != nil {
		return l.lastCP, nil
	}
	cps, err := l.store.Checkpoints(ctx)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	for i := range cps {
		if l.lastCP == nil || cps[i].Seq > l.lastCP.Seq {
			l.lastCP = &cps[i]
		}
	}
	if l.lastCP != nil && l.lastCP.Time.After(l.lastCPTime) {
		l.lastCPTime = l.lastCP.Time
	}
	return l.lastCP, nil
}

// Checkpoint writes a checkpoint at the current head now, whatever the
// schedule says. It is an error on an empty chain or without a Key.
func (l *Log) Checkpoint(ctx context.Context) (Checkpoint, error) {
	if l.opts.Key == nil {
		return Checkpoint{}, errors.New("audit checkpoint: no signing key configured")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	head, err := l.store.Head(ctx)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit checkpoint: %w", err)
	}
	if head.Seq == 0 {
		return Checkpoint{}, errors.New("audit checkpoint: the chain is empty")
	}
	return l.writeCheckpoint(ctx, head)
}

// writeCheckpoint signs head, stores the checkpoint and exports it to every
// sink. A sink's failure is returned, after the others had their turn.
func (l *Log) writeCheckpoint(ctx context.Context, head Head) (Checkpoint, error) {
	c := Checkpoint{Seq: head.Seq, Hash: head.Hash, Time: l.opts.Now().UTC().Round(0)}
	if err := c.Sign(l.opts.Key); err != nil {
		return Checkpoint{}, err
	}
	if err := l.store.AddCheckpoint(ctx, c); err != nil {
		return Checkpoint{}, fmt.Errorf("store checkpoint: %w", err)
	}
	l.lastCP, l.lastCPTime = &c, c.Time
	var errs []error
	for _, s := range l.opts.Sinks {
		if err := s.Export(ctx, c); err != nil {
			errs = append(errs, err)
		}
	}
	return c, errors.Join(errs...)
}

// Run writes a checkpoint every CheckpointInterval while entries followed
// the last one, and appends spooled entries as soon as the store takes
// them, until ctx is done. The server runs it in a goroutine it owns.
func (l *Log) Run(ctx context.Context) error {
	t := time.NewTicker(min(l.opts.CheckpointInterval, 10*time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if err := l.Flush(ctx); err != nil {
			continue // still unavailable; the next tick retries
		}
		l.mu.Lock()
		head, err := l.store.Head(ctx)
		if err == nil {
			l.maybeCheckpoint(ctx, Entry{Seq: head.Seq, Hash: head.Hash})
		}
		l.mu.Unlock()
	}
}

// Close appends what is spooled and writes a final checkpoint if entries
// followed the last one, so that a log stopped cleanly is covered to its
// last entry. The Log stays usable; the server calls Close on shutdown.
func (l *Log) Close(ctx context.Context) error {
	flushErr := l.Flush(ctx)
	if l.opts.Key == nil {
		return flushErr
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	head, err := l.store.Head(ctx)
	if err != nil {
		return errors.Join(flushErr, fmt.Errorf("audit close: %w", err))
	}
	last, err := l.lastCheckpoint(ctx)
	if err != nil {
		return errors.Join(flushErr, err)
	}
	if head.Seq == 0 || (last != nil && last.Seq >= head.Seq) {
		return flushErr
	}
	_, err = l.writeCheckpoint(ctx, head)
	return errors.Join(flushErr, err)
}
