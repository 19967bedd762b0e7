// Package guard holds a host's fault deadlines when no other bulwark process
// is running. One guard runs per state directory (flock on guard.lock); it is
// the bulwark binary re-executed as `bulwark guard` in its own session, so
// the command that injected a fault can exit. The guard reads the journal
// without the state lock to learn the next deadline, takes the lock only to
// sweep, and exits once no live fault is left.
package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/bulwarkhq/bulwark/internal/hostmgr"
	"github.com/bulwarkhq/bulwark/internal/journal"
)

// Config configures Run.
type Config struct {
	StateDir string
	// Open opens the host manager (taking the state lock).
	Open func(ctx context.Context) (*hostmgr.Manager, error)
	// Poll is how often the journal is re-read for new faults and deadlines.
	Poll time.Duration
	// Tend is how often active faults' Guard hooks run.
	Tend time.Duration
	// Idle is how long the guard waits with no live fault before exiting.
	Idle   time.Duration
	Logger *slog.Logger
}

// ErrRunning reports that another guard already holds the state directory.
var ErrRunning = errors.New("a guard is already running for this state directory")

// LockPath returns the guard's lock file in stateDir.
func LockPath(stateDir string) string { return filepath.Join(stateDir, "guard.lock") }

// Run holds the deadlines until ctx is done or nothing is live for cfg.Idle.
func Run(ctx context.Context, cfg Config) error {
	cfg.defaults()
	lock, err := lockGuard(LockPath(cfg.StateDir))
	if err != nil {
		return err
	}
	defer lock.Close()
	cfg.Logger.Info("guard started", "stateDir", cfg.StateDir, "pid", os.Getpid())
	boot := hostmgr.CurrentBootID()
	path := filepath.Join(cfg.StateDir, "journal.jsonl")
	idleSince, lastTend := time.Now(), time.Time{}
	var j liveJournal
	for {
		recs, err := j.load(path)
		if err != nil {
			cfg.Logger.Error("read journal", "err", err)
		}
		wait, live := hostmgr.NextDeadline(recs, boot)
		switch {
		case err == nil && !live && time.Since(idleSince) >= cfg.Idle:
			cfg.Logger.Info("guard exiting: no live faults")
			return nil
		case live:
			idleSince = time.Now()
		}
		if live && (wait == 0 || time.Since(lastTend) >= cfg.Tend && hostmgr.NeedsTend(recs)) {
			cfg.sweep(ctx, wait == 0)
			lastTend = time.Now()
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(min(wait, cfg.Poll)):
		}
	}
}

// liveJournal reads the journal's live records again only when the file has
// changed: the journal is only appended to or replaced by a rename, so the
// same file with the same size and modification time holds the same records.
// The guard polls it five times a second for as long as a fault is live.
type liveJournal struct {
	st   os.FileInfo
	recs []*journal.Record
}

func (j *liveJournal) load(path string) ([]*journal.Record, error) {
	st, err := os.Stat(path)
	if err == nil && j.st != nil && os.SameFile(st, j.st) && st.Size() == j.st.Size() && st.ModTime().Equal(j.st.ModTime()) {
		return j.recs, nil
	}
	j.st, j.recs = nil, nil
	recs, err := journal.LoadLive(path)
	if err != nil {
		return nil, err
	}
	if st != nil {
		j.st, j.recs = st, recs
	}
	return recs, nil
}

// sweep opens the manager, sweeps when something is due, and tends the
// active faults.
func (cfg *Config) sweep(ctx context.Context, due bool) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	m, err := cfg.Open(ctx)
	if err != nil {
		cfg.Logger.Error("open host manager", "err", err)
		time.Sleep(cfg.Poll)
		return
	}
	defer m.Close()
	if due {
		faults, err := m.Sweep(ctx)
		for _, f := range faults {
			cfg.Logger.Info("swept", "id", f.ID, "kind", f.Kind, "state", f.State, "reason", f.EndReason)
		}
		if err != nil {
			cfg.Logger.Error("sweep", "err", err)
		}
	}
	m.Tend(ctx)
}

func (cfg *Config) defaults() {
	if cfg.Poll == 0 {
		cfg.Poll = 200 * time.Millisecond
	}
	if cfg.Tend == 0 {
		cfg.Tend = time.Second
	}
	if cfg.Idle == 0 {
		cfg.Idle = 3 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
}

// Running reports whether a guard holds stateDir's guard lock.
func Running(stateDir string) bool {
	f, err := lockGuard(LockPath(stateDir))
	if err != nil {
		return errors.Is(err, ErrRunning)
	}
	f.Close()
	return false
}

func lockGuard(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open guard lock: %w", err)
	}
	ok, err := tryLock(f)
	if err != nil || !ok {
		f.Close()
		if err == nil {
			err = ErrRunning
		}
		return nil, err
	}
	return f, nil
}
