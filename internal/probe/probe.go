package probe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"sync"
	"time"
)

// Result is one observation by a probe.
type Result struct {
	// Time is when the observation started (for load, when the transaction was due).
	Time time.Time `json:"time"`
	// OK says whether the observation met the probe's expectation.
	OK bool `json:"ok"`
	// Latency is how long the observation took.
	Latency time.Duration `json:"latency"`
	// Value is the number observed by prometheus and sql probes, nil otherwise.
	Value *float64 `json:"value,omitempty"`
	// Err says why OK is false; it is empty when OK is true.
	Err string `json:"error,omitempty"`
}

// Probe checks one aspect of a system's steady state. See the package
// documentation for the contract.
type Probe interface {
	// Name is the probe's name in the drill file.
	Name() string
	// Check makes one observation. It returns when ctx is done or the probe's
	// timeout has passed at the latest, and reports failures in the Result.
	Check(ctx context.Context) Result
	// Close releases the probe's resources. It is idempotent.
	Close() error
}

// Streamer is implemented by probes that produce Results on their own
// schedule (load). A Sampler runs Stream instead of calling Check on a timer.
type Streamer interface {
	Probe
	// Stream produces Results until ctx is done, calling emit for each one
	// (never concurrently). When ctx is done it starts no more transactions,
	// lets those in flight finish under their own timeout, emits them and
	// returns nil.
	Stream(ctx context.Context, emit func(Result)) error
}

// Config is the configuration of one probe kind, as decoded from a drill file.
type Config interface {
	// Validate checks the configuration and returns every problem (errors.Join).
	Validate() error
	// Build returns a probe with the given name. Validate has returned nil.
	Build(name string, opts Options) (Probe, error)
}

// Options are what probes get from the engine rather than from the drill file.
type Options struct {
	// AllowList is the set of executables command probes may run; nil allows none.
	AllowList *AllowList
	// Logger receives debug messages; nil discards them.
	Logger *slog.Logger
	// Now is the clock for Result.Time; nil means time.Now.
	Now func() time.Time
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Kind describes one probe kind for the registry.
type Kind struct {
	// Name is the key of the kind in a drill file's probe entry ("http").
	Name string
	// NewConfig returns a configuration with its defaults filled in, ready to
	// be decoded into.
	NewConfig func() Config
}

// ErrUnknownKind is returned by Lookup for a kind that is not registered.
var ErrUnknownKind = errors.New("unknown probe kind")

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

var registry = struct {
	sync.RWMutex
	kinds map[string]Kind
}{kinds: map[string]Kind{}}

// Register adds a probe kind. It panics on an empty or malformed name, a nil
// constructor or a duplicate, as database/sql.Register does.
func Register(k Kind) {
	if !nameRE.MatchString(k.Name) {
		panic(fmt.Sprintf("probe: malformed kind name %q", k.Name))
	}
	if k.NewConfig == nil {
		panic(fmt.Sprintf("probe: kind %q has no NewConfig", k.Name))
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.kinds[k.Name]; dup {
		panic(fmt.Sprintf("probe: kind %q registered twice", k.Name))
	}
	registry.kinds[k.Name] = k
}

// Lookup returns the kind registered under name.
func Lookup(name string) (Kind, error) {
	registry.RLock()
	defer registry.RUnlock()
	k, ok := registry.kinds[name]
	if !ok {
		return Kind{}, fmt.Errorf("%w %q (known: %v)", ErrUnknownKind, name, kindsLocked())
	}
	return k, nil
}

// Kinds returns the registered kind names, sorted.
func Kinds() []string {
	registry.RLock()
	defer registry.RUnlock()
	return kindsLocked()
}

func kindsLocked() []string {
	names := make([]string, 0, len(registry.kinds))
	for n := range registry.kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ValidName reports whether name is a valid probe name (contract 6).
func ValidName(name string) bool { return nameRE.MatchString(name) }

// New validates name and cfg and builds the probe.
func New(name string, cfg Config, opts Options) (Probe, error) {
	if !ValidName(name) {
		return nil, fmt.Errorf("new probe: name %q must match %s", name, nameRE)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new probe %s: %w", name, err)
	}
	p, err := cfg.Build(name, opts)
	if err != nil {
		return nil, fmt.Errorf("new probe %s: %w", name, err)
	}
	return p, nil
}

// timed runs fn under the probe's timeout and turns its outcome into a Result.
func timed(ctx context.Context, opts Options, timeout time.Duration, fn func(ctx context.Context) (*float64, error)) Result {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := Result{Time: opts.now()}
	start := time.Now()
	v, err := fn(ctx)
	r.Latency = time.Since(start)
	r.Value = v
	if err != nil {
		r.Err = err.Error()
		return r
	}
	r.OK = true
	return r
}

// defaultTimeout is used by every kind whose Timeout is zero.
const defaultTimeout = 2 * time.Second
