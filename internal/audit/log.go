package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// Options configure a Log. The zero value records with SHA-256, writes no
// checkpoints and has no spool.
type Options struct {
	// Alg is the hash algorithm of new entries (default DefaultAlg).
	Alg string
	// Key signs checkpoints; nil writes none. Load it with LoadPrivateKey
	// from a file outside the database.
	Key ed25519.PrivateKey
	// CheckpointEvery writes a checkpoint once this many entries follow the
	// last one (default 100).
	CheckpointEvery int
	// CheckpointInterval writes a checkpoint on the first Record (or Run
	// tick) this long after the last one, if entries followed it (default
	// 1m).
	CheckpointInterval time.Duration
	// Sinks receive a copy of every checkpoint.
	Sinks []Sink
	// SpoolPath is the file that holds entries while the store is
	// unavailable; "" returns the store's error from Record instead.
	SpoolPath string
	// StoreTimeout bounds one attempt to append to the store before the
	// entry is spooled (default 5s).
	StoreTimeout time.Duration
	// PublicKey and CheckpointFile are what Log.Verify checks against;
	// PublicKey defaults to Key's.
	PublicKey      ed25519.PublicKey
	CheckpointFile string
	// Now and Logger default to time.Now and slog.Default().
	Now    func() time.Time
	Logger *slog.Logger
}

// Log records entries into a Store, spooling them while it is unavailable,
// and writes signed checkpoints. It is safe for concurrent use; Record calls
// are serialised.
type Log struct {
	store Store
	opts  Options
	spool *spool

	mu           sync.Mutex
	spoolChecked bool // the spool file was read once
	spooled      int  // entries in the spool
	lastCP       *Checkpoint
	lastCPTime   time.Time
}

// New returns a Log over store. Invalid options (an unknown algorithm) are
// reported by the first Record.
func New(store Store, opts Options) *Log {
	if opts.Alg == "" {
		opts.Alg = DefaultAlg
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = 100
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = time.Minute
	}
	if opts.StoreTimeout <= 0 {
		opts.StoreTimeout = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PublicKey == nil && opts.Key != nil {
		opts.PublicKey = opts.Key.Public().(ed25519.PublicKey)
	}
	l := &Log{store: store, opts: opts, lastCPTime: opts.Now()}
	if opts.SpoolPath != "" {
		l.spool = &spool{path: opts.SpoolPath}
	}
	return l
}

// Record appends e to the chain and returns it sealed (Seq, Alg, PrevHash,
// Hash set). It fills ID and Time when they are empty. Entries spooled
// earlier are appended first, in order.
//
// When the store is unavailable and a spool is configured, e is written to
// the spool (fsynced) and returned with Seq 0 and a nil error: it is
// recorded, and a later Record or Flush appends it. An invalid entry is an
// EINVALID error and is neither stored nor spooled.
func (l *Log) Record(ctx context.Context, e Entry) (Entry, error) {
	if e.ID == "" {
		e.ID = bulwark.NewID()
	}
	if e.Time.IsZero() {
		e.Time = l.opts.Now()
	}
	e.Time = e.Time.UTC().Round(0)
	e.Alg, e.Seq, e.PrevHash, e.Hash = l.opts.Alg, 0, "", ""
	if err := e.Validate(); err != nil {
		return Entry{}, err
	}
	if _, err := NewHash(e.Alg); err != nil {
		return Entry{}, err
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	stored, err := l.appendWithSpool(ctx, &e)
	if err != nil {
		return Entry{}, err
	}
	if stored == nil {
		return e, nil // spooled
	}
	l.maybeCheckpoint(ctx, stored[len(stored)-1])
	for _, s := range stored {
		if s.ID == e.ID {
			return s, nil
		}
	}
	return Entry{}, bulwark.Errorf(bulwark.ECONFLICT, "audit entry %s is already recorded", e.ID)
}

// appendWithSpool appends the spooled entries and then e (if not nil) in
// one transaction. On a store failure it spools e and returns nil, nil.
func (l *Log) appendWithSpool(ctx context.Context, e *Entry) ([]Entry, error) {
	batch, err := l.pending()
	if err != nil {
		return nil, err
	}
	if e != nil {
		batch = append(batch, *e)
	}
	if len(batch) == 0 {
		return nil, nil
	}
	actx, cancel := context.WithTimeout(ctx, l.opts.StoreTimeout)
	stored, err := l.store.Append(actx, batch, seal)
	cancel()
	if err == nil {
		l.clearSpool()
		return stored, nil
	}
	if l.spool == nil || e == nil || bulwark.ErrorCode(err) == bulwark.EINVALID {
		return nil, fmt.Errorf("append audit entry: %w", err)
	}
	if serr := l.spool.add(*e); serr != nil {
		return nil, errors.Join(fmt.Errorf("append audit entry: %w", err), serr)
	}
	l.spooled++
	l.opts.Logger.Warn("audit store unavailable; entry spooled", "action", e.Action, "spooled", l.spooled, "err", err)
	return nil, nil
}

// pending returns the spooled entries, reading the file only when it may
// hold some.
func (l *Log) pending() ([]Entry, error) {
	if l.spool == nil || (l.spoolChecked && l.spooled == 0) {
		return nil, nil
	}
	es, err := l.spool.read()
	if err != nil {
		// A corrupt spool must not stop auditing: it is kept aside, whole,
		// for a person to look at, and recording goes on.
		aside, rerr := l.spool.setAside(l.opts.Now())
		if rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		l.opts.Logger.Error("audit spool unreadable; set aside, its entries are not in the chain", "file", aside, "err", err)
		es = nil
	}
	l.spoolChecked, l.spooled = true, len(es)
	return es, nil
}

func (l *Log) clearSpool() {
	if l.spool == nil || l.spooled == 0 {
		return
	}
	if err := l.spool.clear(); err != nil {
		// The entries are stored; replaying them later is a no-op by ID.
		l.opts.Logger.Warn("audit spool not cleared", "err", err)
		return
	}
	l.spooled = 0
}

// Flush appends the spooled entries, if any, and returns the store's error
// if it is still unavailable.
func (l *Log) Flush(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	stored, err := l.appendWithSpool(ctx, nil)
	if err != nil {
		return err
	}
	if len(stored) > 0 {
		l.maybeCheckpoint(ctx, stored[len(stored)-1])
	}
	return nil
}

// Spooled returns how many entries wait in the spool for the store.
func (l *Log) Spooled() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.spooled
}

// seal chains e after prev with e's own algorithm.
func seal(prev Head, e *Entry) error {
	e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	h, err := ComputeHash(e)
	if err != nil {
		return err
	}
	e.Hash = h
	return nil
}

// Verify checks the log's store against the log's public key and
// checkpoint file (see the package function Verify). A checkpoint file
// that does not exist yet (no checkpoint written) is left out, with a
// warning in the report.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	opts := VerifyOptions{PublicKey: l.opts.PublicKey, CheckpointFile: l.opts.CheckpointFile}
	var warn string
	if opts.CheckpointFile != "" {
		if _, err := os.Stat(opts.CheckpointFile); errors.Is(err, os.ErrNotExist) {
			opts.CheckpointFile = ""
			warn = "checkpoint file " + l.opts.CheckpointFile + " does not exist"
		}
	}
	rep, err := Verify(ctx, l.store, opts)
	if warn != "" {
		rep.Warnings = append(rep.Warnings, warn)
	}
	return rep, err
}
