package fault

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// Outlives says where a kind's effect lives, which decides how it is
// recovered after every bulwark process is gone and after a reboot.
type Outlives string

// The recovery classes. OutlivesNothing effects live in a helper process that
// exits on its own at its deadline; kernel effects vanish at reboot; process
// and filesystem effects survive everything but an explicit recover (a reboot
// clears a stopped process, so process counts as kernel for reboots).
const (
	OutlivesNothing    Outlives = "nothing"
	OutlivesKernel     Outlives = "kernel"
	OutlivesProcess    Outlives = "process"
	OutlivesFilesystem Outlives = "filesystem"
)

// EndsAtReboot reports whether a reboot undoes the effect by itself.
func (o Outlives) EndsAtReboot() bool { return o != OutlivesFilesystem }

// KindInfo describes a kind. ID is "area.verb" ("cpu.load", "net.partition").
type KindInfo struct {
	ID        string
	Summary   string // one line, English
	SummaryZH string // one line, zh-CN
	// Platforms lists the GOOS values the kind supports.
	Platforms []string
	Outlives  Outlives
	// ReceiptVersion is the newest receipt version this binary writes. The
	// kind decodes every older version; a newer one is refused.
	ReceiptVersion int
	// Composes is true when several faults of this kind may act on the same
	// resource at once (each one's rules are its own).
	Composes bool
	// NewParams returns a pointer to a new, zero parameter struct whose
	// fields carry `param` tags (see Schema).
	NewParams func() any
}

// Request is what Prepare gets: the decoded, validated parameters and the
// fault's identity and lifetime.
type Request struct {
	ID       string
	Params   any
	Duration time.Duration
	// Deadline is the wall-clock instant by which any helper the kind starts
	// must have exited by itself. It is later than the fault's expiry (the
	// duration starts after Verify), so the guard recovers first.
	Deadline time.Time
}

// Kind is a fault primitive. Implementations are stateless: everything a
// fault needs lives in its Receipt.
//
// Contract: Prepare changes nothing. Apply leaves either the whole fault or
// nothing applied, and returns when ctx is done. Verify returns evidence and
// an error when the effect is not in place. Recover is idempotent, never
// reports "already recovered" as an error, and needs nothing but the receipt.
// VerifyRecovered returns an error when any trace of the fault remains.
type Kind interface {
	Info() KindInfo
	Prepare(ctx context.Context, h *Host, req Request) (*Receipt, error)
	Apply(ctx context.Context, h *Host, r *Receipt) error
	Verify(ctx context.Context, h *Host, r *Receipt) ([]bulwark.Evidence, error)
	Recover(ctx context.Context, h *Host, r *Receipt) error
	VerifyRecovered(ctx context.Context, h *Host, r *Receipt) ([]bulwark.Evidence, error)
}

// Availability is implemented by kinds that need something the host may lack
// (root, a kernel feature, systemd). Available returns why not, or nil.
type Availability interface {
	Available(ctx context.Context, h *Host) error
}

// Noter is implemented by kinds with something to say about this host that
// does not make them unavailable, such as a kernel-bypass NIC whose traffic
// the kind's rules never see. `fault kinds` shows the notes.
type Noter interface {
	Notes(ctx context.Context, h *Host) []string
}

// Statuser is implemented by kinds whose effect someone else can undo (files,
// firewall rules, the hosts file, services). Status returns evidence of the
// effect still being in place; an error means the fault has drifted.
type Statuser interface {
	Status(ctx context.Context, h *Host, r *Receipt) ([]bulwark.Evidence, error)
}

// Guarder is implemented by kinds whose effect needs tending while active
// (refreshing kernel-side timeouts, checking a helper). The guard calls Guard
// on every active fault of the kind about once a second.
type Guarder interface {
	Guard(ctx context.Context, h *Host, r *Receipt) error
}

// Receipt is what the journal keeps for one fault: enough to recover it in
// any later process. Data is the kind's own, versioned undo record.
type Receipt struct {
	Kind    string `json:"kind"`
	Version int    `json:"version"`
	// Resource names what the fault changes ("pid:123@4567", "file:/x");
	// the manager refuses a second fault on a live resource unless the
	// kind composes. Empty for kinds that never conflict.
	Resource string          `json:"resource,omitempty"`
	BootID   string          `json:"bootId,omitempty"`
	NetNS    *NetNSRef       `json:"netns,omitempty"`
	Data     json.RawMessage `json:"data"`
}

// NetNSRef records the network namespace a receipt was applied in: its inode
// and a path that leads back into it.
type NetNSRef struct {
	Inode uint64 `json:"inode"`
	Path  string `json:"path,omitempty"`
}

// NewReceipt returns a receipt of the kind's current version holding data.
func NewReceipt(info KindInfo, resource string, data any) (*Receipt, error) {
	r := &Receipt{Kind: info.ID, Version: info.ReceiptVersion, Resource: resource}
	if err := r.Set(data); err != nil {
		return nil, err
	}
	return r, nil
}

// Set replaces the receipt's data; Apply uses it to record what it learned
// (a helper's pid), and the manager journals the receipt again.
func (r *Receipt) Set(data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode %s receipt: %w", r.Kind, err)
	}
	r.Data = b
	return nil
}

// Decode unmarshals the receipt's data into v.
func (r *Receipt) Decode(v any) error {
	if err := json.Unmarshal(r.Data, v); err != nil {
		return fmt.Errorf("decode %s receipt v%d: %w", r.Kind, r.Version, err)
	}
	return nil
}

// Evidence returns one observation stamped now.
func Evidence(check string, ok bool, format string, args ...any) bulwark.Evidence {
	return bulwark.Evidence{Time: time.Now().UTC(), Check: check, OK: ok, Detail: fmt.Sprintf(format, args...)}
}
