package hostmgr

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/journal"
)

// Config configures a Manager.
type Config struct {
	// StateDir holds the lock, the journal and the kinds' backups.
	StateDir string
	// Host is what kinds act on; nil means fault.DefaultHost(StateDir).
	Host   *fault.Host
	Policy Policy
	Logger *slog.Logger
	// OnLive is called after an inject leaves a live fault, so the caller can
	// make sure a guard (and, with systemd, a timer) watches its deadline.
	OnLive func(ctx context.Context, f *bulwark.Fault)
	// RecoverTimeout bounds one recovery attempt.
	RecoverTimeout time.Duration
	// KeepEnded is how many ended faults the journal keeps for `fault list`.
	KeepEnded int
}

// Manager owns one state directory. It is safe for concurrent use; calls are
// serialised.
type Manager struct {
	cfg     Config
	host    *fault.Host
	lock    *os.File
	journal *journal.Journal
	bootID  string
	sem     chan struct{}
	log     *slog.Logger
}

// Open takes the state directory's lock, waiting until ctx is done if another
// process holds it, and loads the journal.
func Open(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.StateDir == "" {
		return nil, bulwark.Errorf(bulwark.EINVALID, "no state directory")
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	lock, err := acquire(ctx, filepath.Join(cfg.StateDir, "lock"))
	if err != nil {
		return nil, err
	}
	j, err := journal.Open(filepath.Join(cfg.StateDir, "journal.jsonl"))
	if err != nil {
		lock.Close()
		return nil, err
	}
	m := &Manager{cfg: cfg, host: cfg.Host, lock: lock, journal: j, bootID: bootID(), sem: make(chan struct{}, 1), log: cfg.Logger}
	m.setDefaults()
	if j.Lines() > 4*m.cfg.KeepEnded+64 {
		if err := j.Compact(m.cfg.KeepEnded); err != nil {
			m.Close()
			return nil, err
		}
	}
	return m, nil
}

func (m *Manager) setDefaults() {
	if m.host == nil {
		m.host = fault.DefaultHost(m.cfg.StateDir)
	}
	if m.cfg.Policy == nil {
		m.cfg.Policy = LocalPolicy{}
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.cfg.RecoverTimeout == 0 {
		m.cfg.RecoverTimeout = 30 * time.Second
	}
	if m.cfg.KeepEnded == 0 {
		m.cfg.KeepEnded = 200
	}
}

func acquire(ctx context.Context, path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open state lock: %w", err)
	}
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock state directory: %w", err)
		}
		if ok {
			return f, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock state directory %s (held by another bulwark): %w", filepath.Dir(path), ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Close releases the journal and the lock.
func (m *Manager) Close() error {
	jerr := m.journal.Close()
	lerr := m.lock.Close()
	if jerr != nil {
		return jerr
	}
	return lerr
}

// Host returns the host the manager's kinds act on.
func (m *Manager) Host() *fault.Host { return m.host }

// serialise runs fn alone, or fails when ctx ends first.
func (m *Manager) serialise(ctx context.Context, fn func() error) error {
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-m.sem }()
	return fn()
}

// Faults lists faults, newest first.
func (m *Manager) Faults(ctx context.Context, filter bulwark.FaultFilter) ([]*bulwark.Fault, error) {
	var out []*bulwark.Fault
	err := m.serialise(ctx, func() error {
		if filter.ID != nil {
			if r, ok := m.journal.Get(*filter.ID); ok && (!filter.Live || r.Fault.State.Live()) {
				out = append(out, &r.Fault)
			}
			return nil
		}
		recs := m.journal.Live
		if !filter.Live {
			recs = m.journal.Records
		}
		for _, r := range recs() {
			if filter.ID != nil && r.Fault.ID != *filter.ID || filter.Live && !r.Fault.State.Live() {
				continue
			}
			f := r.Fault
			out = append(out, &f)
			if filter.Limit > 0 && len(out) == filter.Limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// NextDeadline returns how long until the earliest live fault needs the
// sweep (expiry or a stuck retry), and false when nothing is live. It waits
// for a call in progress (an inject, a recovery) to finish.
func (m *Manager) NextDeadline() (time.Duration, bool) {
	m.sem <- struct{}{}
	defer func() { <-m.sem }()
	return NextDeadline(m.journal.Live(), m.bootID)
}

// NextDeadline computes, from journal records, how long until the earliest
// live fault needs the sweep; a record from another boot is due now.
func NextDeadline(recs []*journal.Record, boot string) (time.Duration, bool) {
	now, best, any := bootNow(), int64(0), false
	for _, r := range recs {
		if !r.Fault.State.Live() {
			continue
		}
		due := r.DeadlineBoot
		switch {
		case r.BootID != boot, r.Fault.State != bulwark.StateActive && r.Fault.State != bulwark.StateStuck:
			due = now
		case r.Fault.State == bulwark.StateStuck:
			due = r.RetryBoot
		}
		if !any || due < best {
			best, any = due, true
		}
	}
	return time.Duration(max(best-now, 0)), any
}

// CurrentBootID returns the running kernel's boot id.
func CurrentBootID() string { return bootID() }

var _ bulwark.FaultService = (*Manager)(nil)

// Receipt returns a copy of the fault's receipt (for status checks and tests).
func (m *Manager) Receipt(ctx context.Context, id string) (*fault.Receipt, error) {
	var out *fault.Receipt
	err := m.serialise(ctx, func() error {
		r, ok := m.journal.Get(id)
		if !ok || r.Receipt == nil {
			return bulwark.Errorf(bulwark.ENOTFOUND, "no fault %s in this host's journal", id)
		}
		c := *r.Receipt
		out = &c
		return nil
	})
	return out, err
}
