//go:build linux

package dep

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/proxy"
)

func init() {
	fault.RegisterHelper(helperName, fault.HelperMain(helperName, func() fault.HelperBody { return new(helperConfig) }))
}

// helperSpec is what the kind hands the helper, in spec.json next to its
// status file: the receipt, where to listen and where to report.
type helperSpec struct {
	Receipt receiptV1 `json:"receipt"`
	Listen  string    `json:"listen"`
	Status  string    `json:"status"`
}

// Helper states in the status file.
const (
	stateRunning  = "running"
	stateDraining = "draining"
	stateExited   = "exited"
)

// helperStatus is the helper's status file: rewritten on every refresh,
// soon after every accepted connection, and on every change of state.
type helperStatus struct {
	Time     time.Time `json:"time"`
	Fault    string    `json:"fault"`
	PID      int       `json:"pid"`
	State    string    `json:"state"`
	Reason   string    `json:"reason,omitempty"`
	Port     uint16    `json:"port"`
	Faults   int       `json:"faults"`
	Accepted uint64    `json:"accepted"`
	Conns    int       `json:"conns"`
	// Refreshed is the last successful element refresh and RefreshMode how
	// it was done; RefreshError the last failure (before Apply created the
	// table, or after Recover deleted it, that is expected).
	Refreshed    time.Time `json:"refreshed,omitzero"`
	RefreshMode  string    `json:"refreshMode,omitempty"`
	RefreshError string    `json:"refreshError,omitempty"`
}

// helperArgs is the helper's command line after the executable; the fault id
// comes first so that strays can be matched by a fixed prefix.
func helperArgs(d *receiptV1, spec, status string) []string {
	return []string{"helper", helperName, "--fault", d.Fault, "--deadline", d.Deadline.UTC().Format(time.RFC3339Nano),
		"--status", status, "--spec", spec}
}

// isHelperArgv reports whether argv is the command line of the helper of
// fault id started from exe.
func isHelperArgv(argv []string, exe, id string) bool {
	return fault.HelperRef{Exe: exe, Name: helperName, Fault: id}.IsArgv(argv)
}

// helperConfig is the helper's command line: `--fault ID --deadline T
// --status FILE --spec FILE`, and the spec it names.
type helperConfig struct {
	fault.HelperArgs
	specPath string
	spec     helperSpec
}

// Flags implements fault.HelperBody.
func (c *helperConfig) Flags(fs *flag.FlagSet) { fs.StringVar(&c.specPath, "spec", "", "") }

// Check implements fault.HelperBody: it reads the spec, which must be for
// the same fault and status file.
func (c *helperConfig) Check() error {
	b, err := os.ReadFile(c.specPath)
	if err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	if err := json.Unmarshal(b, &c.spec); err != nil {
		return fmt.Errorf("decode spec: %w", err)
	}
	if c.spec.Receipt.Fault != c.Fault || c.spec.Status != c.Status {
		return fmt.Errorf("spec is for fault %q and status %q, not %q and %q", c.spec.Receipt.Fault, c.spec.Status, c.Fault, c.Status)
	}
	return nil
}

// Run is the body of `bulwark helper dep-proxy` (fault.HelperBody). It
// serves the fault proxy, keeps the redirect's elements fresh, and on
// SIGTERM (Recover) removes its fault and drains the proxied connections
// before exiting. It always exits by its deadline: shortly before it, it
// deletes its set elements (so nothing is redirected to a closing port) and
// closes what is left.
func (c *helperConfig) Run(ctx context.Context) error {
	h, err := newHelper(c)
	if err != nil {
		return err
	}
	return h.run(ctx)
}

// helper is a running dep-proxy helper.
type helper struct {
	cfg      *helperConfig
	p        *proxy.Proxy
	ln       *countingListener
	nft      *nftConn
	mu       sync.Mutex
	status   helperStatus
	dirty    chan struct{}
	serveErr chan error
}

func newHelper(c *helperConfig) (*helper, error) {
	d := &c.spec.Receipt
	framing, err := d.Framing.Proxy()
	if err != nil {
		return nil, err
	}
	cfg := proxy.DefaultConfig()
	cfg.Resolve = targetResolver(d)
	cfg.Mark = int(d.Mark)
	cfg.Framing = framing
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p, err := proxy.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", helperName, err)
	}
	nl, err := net.Listen("tcp", c.spec.Listen)
	if err != nil {
		return nil, fmt.Errorf("%s: listen on %s: %w", helperName, c.spec.Listen, err)
	}
	h := &helper{cfg: c, p: p, dirty: make(chan struct{}, 1), serveErr: make(chan error, 1)}
	h.ln = &countingListener{Listener: nl, dirty: h.dirty}
	if h.nft, err = openNFT("", 0); err != nil {
		nl.Close()
		return nil, err
	}
	h.status = helperStatus{Fault: d.Fault, PID: os.Getpid(), Port: uint16(nl.Addr().(*net.TCPAddr).Port)}
	return h, nil
}

// run serves until ctx ends or shortly before the deadline, then winds
// down: on a signal (Recover's SIGTERM; the caller's context ends only on
// one too) it drains for up to the receipt's Drain but never past the
// deadline, and at the deadline only briefly.
func (h *helper) run(ctx context.Context) error {
	defer h.nft.close()
	d := &h.cfg.spec.Receipt
	deadline := h.cfg.Deadline
	// Wind down a little before the deadline so that the helper is gone by it.
	margin := min(2*time.Second, time.Until(deadline)/4)
	end := time.NewTimer(time.Until(deadline) - margin)
	defer end.Stop()

	if err := h.p.SetFaults([]proxy.Fault{d.Proxy}); err != nil {
		h.ln.Close()
		return fmt.Errorf("%s: set fault: %w", helperName, err)
	}
	go func() { h.serveErr <- h.p.Serve(context.WithoutCancel(ctx), h.ln) }()
	h.refresh()
	h.write(stateRunning, "")
	tick := time.NewTicker(d.Refresh.Std())
	defer tick.Stop()
	var lastWrite time.Time
	for {
		select {
		case <-ctx.Done():
			cause := context.Cause(ctx)
			if errors.Is(cause, fault.ErrHelperDeadline) {
				// The wall clock passed the deadline first (a suspend): no drain.
				return h.windDown(ctx, "deadline", deadline.Add(-margin/2))
			}
			return h.windDown(ctx, cause.Error(), time.Now().Add(min(d.Drain.Std(), time.Until(deadline)-margin/2)))
		case <-end.C:
			return h.windDown(ctx, "deadline", time.Now().Add(margin/2))
		case err := <-h.serveErr:
			h.removeElements()
			h.write(stateExited, fmt.Sprintf("serve: %v", err))
			return fmt.Errorf("%s: serve: %w", helperName, err)
		case <-tick.C:
			h.refresh()
			h.write(stateRunning, "")
			lastWrite = time.Now()
		case <-h.dirty:
			// Report accepted connections promptly, at most every 10 ms.
			if wait := 10*time.Millisecond - time.Since(lastWrite); wait > 0 {
				time.Sleep(wait)
			}
			h.write(stateRunning, "")
			lastWrite = time.Now()
		}
	}
}

// windDown stops refreshing, makes the redirect inert (its elements go; on
// Recover the table is already gone), removes the fault so that proxied
// connections drain through the proxy untouched, and waits for them until
// drainBy, then closes what is left.
func (h *helper) windDown(ctx context.Context, reason string, drainBy time.Time) error {
	h.removeElements()
	_ = h.p.SetFaults(nil)
	h.write(stateDraining, reason)
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), drainBy)
	defer cancel()
	err := h.p.Shutdown(ctx)
	if err != nil {
		reason += fmt.Sprintf("; drain cut short: %v", err)
	}
	// Recover leaves the inert table while connections drain (see
	// clearElements); with none left it goes. The fault is over either way.
	if _, err := deleteTable(h.nft, h.cfg.spec.Receipt.Table); err != nil {
		reason += fmt.Sprintf("; delete table: %v", err)
	}
	h.write(stateExited, reason)
	return nil
}

// refresh renews the set elements' timeouts and records the outcome.
func (h *helper) refresh() {
	mode, err := refreshElements(h.nft, &h.cfg.spec.Receipt)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.status.RefreshError = err.Error()
		return
	}
	h.status.Refreshed, h.status.RefreshMode, h.status.RefreshError = time.Now().UTC(), mode, ""
}

// removeElements deletes the fault's set elements, best effort: after it no
// new connection is redirected, even before the kernel timeout.
func (h *helper) removeElements() {
	_ = deleteElements(h.nft, &h.cfg.spec.Receipt) // fails when the table is gone already, which is fine
}

// write rewrites the status file atomically. A failure is only logged: the
// effect matters more than its report, and Status notices a stale file.
func (h *helper) write(state, reason string) {
	h.mu.Lock()
	s := h.status
	h.mu.Unlock()
	s.Time, s.State, s.Reason = time.Now().UTC(), state, reason
	s.Faults, s.Conns, s.Accepted = len(h.p.Faults()), h.p.Conns(), h.ln.accepted.Load()
	_ = h.cfg.WriteStatus(s)
}

// writeJSON replaces path with v as JSON, atomically.
func writeJSON(path string, v any) error { return fault.WriteStatusFile(path, v) }

// readStatus reads the helper's status file.
func readStatus(path string) (*helperStatus, error) {
	var s helperStatus
	if err := fault.ReadStatusFile(path, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// targetResolver is the helper's Resolver: the original destination of a
// redirected connection, accepted only if it is the fault's target. A
// connection made to the proxy's port directly (its original destination is
// the proxy itself) or redirected for another destination is refused, so
// the port is no open relay and cannot loop into itself.
func targetResolver(d *receiptV1) proxy.Resolver {
	return func(c net.Conn) (string, error) {
		dst, err := proxy.OriginalDestination(c)
		if err != nil {
			return "", err
		}
		ap, err := netip.ParseAddrPort(dst)
		if err != nil {
			return "", fmt.Errorf("original destination %q: %w", dst, err)
		}
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if la, ok := c.LocalAddr().(*net.TCPAddr); ok {
			if l := la.AddrPort(); l.Addr().Unmap() == ap.Addr() && l.Port() == ap.Port() {
				return "", errors.New("connection was not redirected")
			}
		}
		if ap.Port() != d.Port || !slices.Contains(d.Addrs, ap.Addr()) {
			return "", fmt.Errorf("original destination %s is not the fault's target", ap)
		}
		return ap.String(), nil
	}
}

// countingListener counts accepted connections and nudges the status writer.
type countingListener struct {
	net.Listener
	accepted atomic.Uint64
	dirty    chan struct{}
}

// Accept implements net.Listener.
func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
		select {
		case l.dirty <- struct{}{}:
		default:
		}
	}
	return c, err
}
