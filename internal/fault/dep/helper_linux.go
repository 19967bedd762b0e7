//go:build linux

package dep

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/proxy"
)

func init() { fault.RegisterHelper(helperName, runHelper) }

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
func helperArgs(d *receiptV1, spec string) []string {
	return []string{"helper", helperName, "--fault", d.Fault, "--deadline", d.Deadline.UTC().Format(time.RFC3339Nano), "--spec", spec}
}

// isHelperArgv reports whether argv is the command line of the helper of
// fault id started from exe.
func isHelperArgv(argv []string, exe, id string) bool {
	return fault.HelperRef{Exe: exe, Name: helperName, Fault: id}.IsArgv(argv)
}

// runHelper is the body of `bulwark helper dep-proxy --fault ID --deadline T
// --spec FILE`. It serves the fault proxy, keeps the redirect's elements
// fresh, and on SIGTERM (Recover) removes its fault and drains the proxied
// connections before exiting. It always exits by its deadline: shortly
// before it, it deletes its set elements (so nothing is redirected to a
// closing port) and closes what is left.
func runHelper(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet(helperName, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	id := fs.String("fault", "", "")
	deadlineText := fs.String("deadline", "", "")
	specPath := fs.String("spec", "", "")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("parse %s arguments: %w", helperName, err)
	}
	deadline, err := time.Parse(time.RFC3339Nano, *deadlineText)
	if err != nil {
		return fmt.Errorf("parse %s --deadline: %w", helperName, err)
	}
	b, err := os.ReadFile(*specPath)
	if err != nil {
		return fmt.Errorf("read %s spec: %w", helperName, err)
	}
	var spec helperSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("decode %s spec: %w", helperName, err)
	}
	if spec.Receipt.Fault != *id || !filepath.IsAbs(spec.Status) {
		return fmt.Errorf("%s spec is for fault %q, not %q, or has no status path", helperName, spec.Receipt.Fault, *id)
	}
	left := time.Until(deadline)
	if left <= 0 {
		return fmt.Errorf("%s: deadline %s has passed", helperName, *deadlineText)
	}
	h, err := newHelper(&spec)
	if err != nil {
		return err
	}
	return h.run(ctx, deadline)
}

// helper is a running dep-proxy helper.
type helper struct {
	spec     *helperSpec
	p        *proxy.Proxy
	ln       *countingListener
	nft      *nftConn
	mu       sync.Mutex
	status   helperStatus
	dirty    chan struct{}
	serveErr chan error
}

func newHelper(spec *helperSpec) (*helper, error) {
	d := &spec.Receipt
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
	nl, err := net.Listen("tcp", spec.Listen)
	if err != nil {
		return nil, fmt.Errorf("%s: listen on %s: %w", helperName, spec.Listen, err)
	}
	h := &helper{spec: spec, p: p, dirty: make(chan struct{}, 1), serveErr: make(chan error, 1)}
	h.ln = &countingListener{Listener: nl, dirty: h.dirty}
	if h.nft, err = openNFT("", 0); err != nil {
		nl.Close()
		return nil, err
	}
	h.status = helperStatus{Fault: d.Fault, PID: os.Getpid(), Port: uint16(nl.Addr().(*net.TCPAddr).Port)}
	return h, nil
}

// run serves until a signal or the deadline, then winds down.
func (h *helper) run(ctx context.Context, deadline time.Time) error {
	defer h.nft.close()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sig)
	// Wind down a little before the deadline so that the helper is gone by it.
	margin := min(2*time.Second, time.Until(deadline)/4)
	end := time.NewTimer(time.Until(deadline) - margin)
	defer end.Stop()

	if err := h.p.SetFaults([]proxy.Fault{h.spec.Receipt.Proxy}); err != nil {
		h.ln.Close()
		return fmt.Errorf("%s: set fault: %w", helperName, err)
	}
	go func() { h.serveErr <- h.p.Serve(context.Background(), h.ln) }()
	h.refresh()
	h.write(stateRunning, "")
	tick := time.NewTicker(h.spec.Receipt.Refresh.Std())
	defer tick.Stop()
	var lastWrite time.Time
	for {
		select {
		case s := <-sig:
			return h.windDown(fmt.Sprintf("signal %s", s), time.Now().Add(min(h.spec.Receipt.Drain.Std(), time.Until(deadline)-margin/2)))
		case <-end.C:
			return h.windDown("deadline", time.Now().Add(margin/2))
		case <-ctx.Done():
			return h.windDown("context done", time.Now().Add(margin/2))
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
func (h *helper) windDown(reason string, drainBy time.Time) error {
	h.removeElements()
	_ = h.p.SetFaults(nil)
	h.write(stateDraining, reason)
	ctx, cancel := context.WithDeadline(context.Background(), drainBy)
	defer cancel()
	err := h.p.Shutdown(ctx)
	if err != nil {
		reason += fmt.Sprintf("; drain cut short: %v", err)
	}
	// Recover leaves the inert table while connections drain (see
	// clearElements); with none left it goes. The fault is over either way.
	if _, err := deleteTable(h.nft, h.spec.Receipt.Table); err != nil {
		reason += fmt.Sprintf("; delete table: %v", err)
	}
	h.write(stateExited, reason)
	return nil
}

// refresh renews the set elements' timeouts and records the outcome.
func (h *helper) refresh() {
	mode, err := refreshElements(h.nft, &h.spec.Receipt)
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
	_ = deleteElements(h.nft, &h.spec.Receipt) // fails when the table is gone already, which is fine
}

// write rewrites the status file atomically. A failure is only logged: the
// effect matters more than its report, and Status notices a stale file.
func (h *helper) write(state, reason string) {
	h.mu.Lock()
	s := h.status
	h.mu.Unlock()
	s.Time, s.State, s.Reason = time.Now().UTC(), state, reason
	s.Faults, s.Conns, s.Accepted = len(h.p.Faults()), h.p.Conns(), h.ln.accepted.Load()
	if err := writeJSON(h.spec.Status, s); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", helperName, err)
	}
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
