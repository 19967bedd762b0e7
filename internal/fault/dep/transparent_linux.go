//go:build linux

package dep

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/proxy"
)

const (
	// readyTimeout bounds how long Apply waits for the helper to listen.
	readyTimeout = 5 * time.Second
	// probeTimeout bounds Verify's connection through the redirect.
	probeTimeout = 2 * time.Second
	// statusStale is how old the helper's status may be before Status
	// calls it hung (it rewrites it every RefreshEvery).
	statusStale = 5 * time.Second
)

// listenAddr is where the helper listens: every local address, because a
// redirect of forwarded traffic (prerouting) delivers to the address of the
// interface it came in on. The helper's resolver refuses connections that
// were not redirected to the fault's target.
const listenAddr = ":0"

// prepareHost checks that transparent mode can work here: root, this
// process's own network namespace (the helper's sockets live where it
// runs), and a kernel that takes the redirect table.
func prepareHost(_ context.Context, h *fault.Host, d *receiptV1) error {
	if os.Geteuid() != 0 {
		return errors.New("transparent mode needs root (nftables and SO_MARK); use explicit mode, `bulwark proxy`, instead")
	}
	if h.NetNSPath != "" {
		if err := sameNetNS(h.NetNSPath); err != nil {
			return err
		}
	}
	c, err := openNFT("", 0)
	if err != nil {
		return err
	}
	defer c.close()
	if ok, err := tableExists(c, d.Table); err != nil {
		return err
	} else if ok {
		return bulwark.Errorf(bulwark.ECONFLICT, "table inet %s already exists", d.Table)
	}
	return probeTable(c, d)
}

// sameNetNS refuses a host namespace other than this process's own: the
// helper proxy must listen and dial inside the namespace of the traffic, and
// a Go process cannot move all its threads into another one.
func sameNetNS(path string) error {
	var st1, st2 os.FileInfo
	st1, err := os.Stat(path)
	if err == nil {
		st2, err = os.Stat("/proc/thread-self/ns/net")
	}
	if err != nil {
		return fmt.Errorf("compare network namespaces: %w", err)
	}
	if !os.SameFile(st1, st2) {
		return fmt.Errorf("transparent mode works only in bulwark's own network namespace, not %s; run bulwark inside it", path)
	}
	return nil
}

// Available implements fault.Availability: root, a helper executable, and
// nftables nat with set timeouts (probed without leaving anything behind).
func (transparent) Available(ctx context.Context, h *fault.Host) error {
	if h.Exe == "" {
		return errors.New("no bulwark executable to start the proxy helper from")
	}
	d := &receiptV1{
		Table: tablePrefix + "available", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()},
		Port: 1, Mark: Mark, ElementTimeout: bulwark.Duration(ElementTimeout), SynOnly: true,
	}
	if err := prepareHost(ctx, h, d); err != nil {
		return fmt.Errorf("%w (explicit mode, `bulwark proxy`, still works)", err)
	}
	return nil
}

// Apply implements fault.Kind. It starts the helper proxy (its own session,
// absolute deadline), waits for it to listen, installs the redirect table in
// one batch, and with --reset-existing resets the existing direct
// connections (otherwise it counts them). On failure it stops the helper
// again; the table is created last, so nothing is left in the path.
func (transparent) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeReceipt(r)
	if err != nil {
		return err
	}
	dir, status, err := h.HelperFiles(d.Fault)
	if err != nil {
		return err
	}
	spec := filepath.Join(dir, "spec.json")
	if err := writeJSON(spec, helperSpec{Receipt: *d, Listen: listenAddr, Status: status}); err != nil {
		return err
	}
	p, err := h.StartHelper(d.Exe, helperArgs(d, spec, status), dir)
	if err != nil {
		return err
	}
	d.Helper = &p
	undo := func(err error) error {
		return errors.Join(err, stop(context.WithoutCancel(ctx), h, p, status))
	}
	if err := r.Set(d); err != nil {
		return undo(err)
	}
	s, err := waitReady(ctx, h, p, status, dir)
	if err != nil {
		return undo(err)
	}
	d.ProxyPort = s.Port
	c, err := nftFor(h, r)
	if err != nil {
		return undo(err)
	}
	defer c.close()
	reset := d.ResetExisting || d.Proxy.Type == proxy.Down && d.Proxy.ResetExisting
	if !reset {
		n := countExisting(d.Addrs, d.Port)
		d.Existing = &n
	}
	if err := createTable(c, d); err != nil {
		return undo(err)
	}
	if reset {
		d.Reset = resetExisting(d.Addrs, d.Port)
	}
	return r.Set(d)
}

// waitReady waits for the helper's first status saying it listens,
// failing early if the helper exits.
func waitReady(ctx context.Context, h *fault.Host, p fault.Proc, status, dir string) (*helperStatus, error) {
	var ready *helperStatus
	err := h.WaitReady(ctx, p, helperName, dir, readyTimeout, func() (bool, error) {
		s, err := readStatus(status)
		if err == nil && s.State == stateRunning && s.Port != 0 {
			ready = s
		}
		return ready != nil, nil
	})
	return ready, err
}

// Verify implements fault.Kind: the table reads back as built, with an
// element per target address; the helper runs and serves the fault; and a
// TCP connection to the target from here is redirected and accepted by the
// helper (its accepted counter and the rule counter move).
func (transparent) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, ev, err := check(h, r)
	if err != nil {
		return ev, err
	}
	status := h.HelperStatusPath(d.Fault)
	before, err := readStatus(status)
	if err != nil {
		return ev, fmt.Errorf("verify %s: %w", r.Kind, err)
	}
	target := netip.AddrPortFrom(d.Addrs[0], d.Port).String()
	start := time.Now()
	// A reset is what dep.down answers; the helper's counter decides.
	conn, err := (&net.Dialer{Timeout: probeTimeout}).DialContext(ctx, "tcp", target)
	if err == nil {
		conn.Close()
	} else if !errors.Is(err, syscall.ECONNRESET) {
		ev = append(ev, fault.Evidence("redirect", false, "connect to %s: %v", target, err))
		return ev, fmt.Errorf("verify %s: connect to %s: %w", r.Kind, target, err)
	}
	ok := waitFor(ctx, probeTimeout, func() bool {
		s, err := readStatus(status)
		return err == nil && s.Accepted > before.Accepted
	})
	if !ok {
		ev = append(ev, fault.Evidence("redirect", false, "a connection to %s did not reach the proxy on port %d", target, d.ProxyPort))
		return ev, fmt.Errorf("verify %s: a connection to %s did not reach the proxy", r.Kind, target)
	}
	ev = append(ev, fault.Evidence("redirect", true, "a connection to %s reached the proxy on port %d in %s",
		target, d.ProxyPort, time.Since(start).Round(10*time.Microsecond)))
	if d.Reset != nil {
		ev = append(ev, fault.Evidence("reset-existing", d.Reset.Method != resetUnavailable,
			"existing direct connections: %d reset by %s %s", d.Reset.Count, d.Reset.Method, d.Reset.Note))
	}
	if e, ok := existingEvidence(d); ok {
		ev = append(ev, e)
	}
	return ev, nil
}

// check reads the table back and the helper's status: the evidence shared by
// Verify and Status, and an error on any difference.
func check(h *fault.Host, r *fault.Receipt) (*receiptV1, []bulwark.Evidence, error) {
	d, err := decodeReceipt(r)
	if err != nil {
		return nil, nil, err
	}
	if d.Helper == nil || !alive(h, *d.Helper) {
		err := fmt.Errorf("%s: the proxy helper of fault %s is not running", r.Kind, d.Fault)
		return d, []bulwark.Evidence{fault.Evidence("helper", false, "%v", err)}, err
	}
	c, err := nftFor(h, r)
	if err != nil {
		return d, nil, err
	}
	defer c.close()
	st, err := readTable(c, d.Table)
	if err != nil {
		return d, []bulwark.Evidence{fault.Evidence("nftables", false, "read back: %v", err)}, err
	}
	diffs := compareTable(d, st)
	if st != nil {
		diffs = append(diffs, missingElements(d, st)...)
	}
	if len(diffs) > 0 {
		err := fmt.Errorf("%s: table inet %s differs from the fault: %s", r.Kind, d.Table, strings.Join(diffs, "; "))
		return d, []bulwark.Evidence{fault.Evidence("nftables", false, "%v", err)}, err
	}
	ev := []bulwark.Evidence{fault.Evidence("nftables", true,
		"table inet %s redirects tcp to %s (output and prerouting, mark %#x excluded) to the proxy on port %d; elements expire unless refreshed (%s)",
		d.Table, d.resource(), d.Mark, d.ProxyPort, d.ElementTimeout)}
	s, err := readStatus(h.HelperStatusPath(d.Fault))
	if err != nil {
		return d, ev, fmt.Errorf("%s: helper status: %w", r.Kind, err)
	}
	age := time.Since(s.Time)
	if s.State != stateRunning || s.Faults != 1 || s.Port != d.ProxyPort || age > statusStale {
		err := fmt.Errorf("%s: helper %s is %s with %d fault(s) on port %d, status %s old", r.Kind, d.Helper, s.State, s.Faults, s.Port, age.Round(time.Millisecond))
		return d, append(ev, fault.Evidence("helper", false, "%v", err)), err
	}
	refreshed := "not yet refreshed (the first refresh follows within " + d.Refresh.String() + ")"
	if !s.Refreshed.IsZero() {
		refreshed = fmt.Sprintf("elements refreshed (%s) %s ago", s.RefreshMode, time.Since(s.Refreshed).Round(time.Millisecond))
	}
	ev = append(ev, fault.Evidence("helper", true, "proxy helper %s serves %s (%s framing) on port %d until %s; %d connection(s) accepted, %d live; %s",
		d.Helper, d.Proxy.Type, d.Framing.Name, s.Port, d.Deadline.Format(time.RFC3339), s.Accepted, s.Conns, refreshed))
	return d, ev, nil
}

// missingElements lists target addresses absent from the sets.
func missingElements(d *receiptV1, st *tableState) []string {
	var out []string
	for _, a := range d.Addrs {
		set := setV4
		if a.Is6() {
			set = setV6
		}
		found := false
		for _, e := range st.Elements[set] {
			found = found || e.Addr == a
		}
		if !found {
			out = append(out, fmt.Sprintf("set %s has no element %s (expired: the helper stopped refreshing)", set, a))
		}
	}
	return out
}

// Status implements fault.Statuser: drift when the table was changed or
// removed, the helper died or stopped refreshing.
func (transparent) Status(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	_, ev, err := check(h, r)
	return ev, err
}

// Recover implements fault.Kind: it deletes the table (new connections go
// direct at once), then sends the helper SIGTERM: the helper removes its
// fault and lets the connections it proxies drain (bounded by Drain and its
// deadline) instead of cutting them. A helper that does not answer is
// killed. Strays found by command line are stopped too. Nothing left is not
// an error.
func (transparent) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeReceipt(r)
	if err != nil {
		return err
	}
	c, err := nftFor(h, r)
	switch {
	case errors.Is(err, errNetNSGone):
		c = nil
	case err != nil:
		return fmt.Errorf("recover %s: %w", r.Kind, err)
	default:
		defer c.close()
		if err := clearElements(c, d); err != nil {
			return fmt.Errorf("recover %s: %w", r.Kind, err)
		}
	}
	procs, _, err := helpers(h, d)
	if err != nil {
		return fmt.Errorf("recover %s: %w", r.Kind, err)
	}
	status := h.HelperStatusPath(d.Fault)
	var errs []error
	for _, p := range procs {
		errs = append(errs, stop(ctx, h, p, status))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("recover %s: %w", r.Kind, err)
	}
	if left, _, _ := helpers(h, d); len(left) == 0 {
		// Nothing drains: the table goes now. Otherwise the draining
		// helper deletes it after its last connection.
		if c != nil {
			if _, err := deleteTable(c, d.Table); err != nil {
				return fmt.Errorf("recover %s: %w", r.Kind, err)
			}
		}
		if h.StateDir != "" {
			if err := os.RemoveAll(h.DataPath(d.Fault)); err != nil {
				return fmt.Errorf("recover %s: remove helper files: %w", r.Kind, err)
			}
		}
	}
	return nil
}

// VerifyRecovered implements fault.Kind: the table is gone, and every helper
// of the fault has either exited or says it holds no fault and only drains
// connections proxied before the recover.
func (transparent) VerifyRecovered(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeReceipt(r)
	if err != nil {
		return nil, err
	}
	var ev []bulwark.Evidence
	c, err := nftFor(h, r)
	switch {
	case errors.Is(err, errNetNSGone):
		ev = append(ev, fault.Evidence("nftables", true, "network namespace gone, and table inet %s with it", d.Table))
	case err != nil:
		return nil, err
	default:
		e, err := tableRecovered(c, h, d)
		c.close()
		if err != nil {
			return []bulwark.Evidence{fault.Evidence("nftables", false, "%v", err)}, err
		}
		ev = append(ev, e)
	}
	procs, scanned, err := helpers(h, d)
	if err != nil {
		return ev, err
	}
	status := h.HelperStatusPath(d.Fault)
	for _, p := range procs {
		if !holdsNoFault(status, p.PID) && alive(h, p) {
			err := fmt.Errorf("proxy helper %s of fault %s still runs with its fault", p, d.Fault)
			return append(ev, fault.Evidence("helper", false, "%v", err)), err
		}
		s, _ := readStatus(status)
		ev = append(ev, fault.Evidence("helper", true, "proxy helper %s holds no fault and drains %d proxied connection(s) until %s at the latest",
			p, s.Conns, d.Deadline.Format(time.RFC3339)))
	}
	if len(procs) == 0 {
		ev = append(ev, fault.Evidence("helper", true, "no proxy helper of fault %s among %d processes", d.Fault, scanned))
	}
	return ev, nil
}

// tableRecovered: the table is gone, or it is inert (no set element left,
// so nothing new is redirected) while a helper that holds no fault drains
// the connections it proxied before the recover; it deletes the table after.
func tableRecovered(c *nftConn, h *fault.Host, d *receiptV1) (bulwark.Evidence, error) {
	exists, err := tableExists(c, d.Table)
	if err != nil || !exists {
		return fault.Evidence("nftables", err == nil, "table inet %s absent", d.Table), err
	}
	n, err := elementCount(c, d.Table)
	if err != nil {
		return bulwark.Evidence{}, err
	}
	draining := false
	procs, _, _ := helpers(h, d)
	for _, p := range procs {
		draining = draining || holdsNoFault(h.HelperStatusPath(d.Fault), p.PID)
	}
	if n > 0 || !draining {
		return bulwark.Evidence{}, fmt.Errorf("table inet %s is still there with %d element(s)", d.Table, n)
	}
	return fault.Evidence("nftables", true, "table inet %s is inert (no element: nothing new is redirected) while proxied connections drain; the helper deletes it after the last one", d.Table), nil
}

var (
	_ fault.Availability = Slow{}
	_ fault.Statuser     = Slow{}
	_ fault.Availability = Down{}
	_ fault.Statuser     = Down{}
)

// existingEvidence says how many connections to the target were open before
// the fault and stay direct: the redirect catches new connections only, and
// a pooled client keeps its connections unless --reset-existing resets them.
// A drill that expects its pool to meet the fault reads it here.
func existingEvidence(d *receiptV1) (bulwark.Evidence, bool) {
	switch {
	case d.Existing == nil:
		return bulwark.Evidence{}, false
	case *d.Existing < 0:
		return fault.Evidence("existing-connections", true, "existing direct connections to the target could not be counted; they stay direct (new connections meet the fault)"), true
	case *d.Existing == 0:
		return fault.Evidence("existing-connections", true, "no direct connection to the target was open: every connection meets the fault"), true
	}
	return fault.Evidence("existing-connections", true,
		"%d connection(s) to the target were open before the fault and stay direct; new connections meet it (--reset-existing resets them)", *d.Existing), true
}
