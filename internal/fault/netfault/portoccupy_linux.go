//go:build linux

package netfault

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

const (
	// occupyReady bounds how long Apply waits for the helper to bind.
	occupyReady = 5 * time.Second
	// How long Recover waits for a helper after SIGTERM, then SIGKILL.
	occupyTermWait = 2 * time.Second
	occupyKillWait = 3 * time.Second
)

// Available implements fault.Availability.
func (PortOccupy) Available(_ context.Context, h *fault.Host) error {
	if h.Exe == "" {
		return errors.New("no bulwark executable to start the net-port-occupy helper from")
	}
	return nil
}

// Prepare refuses management ports and ports already in use (naming who
// holds them where it can), and computes the receipt. It changes nothing.
func (k PortOccupy) Prepare(_ context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*PortOccupyParams)
	if !ok {
		return nil, fmt.Errorf("prepare %s: params are %T", PortOccupyID, req.Params)
	}
	switch {
	case h.Exe == "":
		return nil, fmt.Errorf("prepare %s: no bulwark executable to start the helper from", PortOccupyID)
	case !bulwark.ValidID(req.ID):
		return nil, fmt.Errorf("prepare %s: fault id %q is not a UUID", PortOccupyID, req.ID)
	case req.Deadline.IsZero():
		return nil, fmt.Errorf("prepare %s: no helper deadline", PortOccupyID)
	}
	for _, mp := range h.Management.TCPPorts {
		if mp >= p.Port.First && mp <= p.Port.Last {
			return nil, &fault.ParamError{Param: "port", Message: fmt.Sprintf("%d is a management port (DESIGN §6.10) and is never occupied", mp)}
		}
	}
	if err := checkPortsFree(h, p); err != nil {
		return nil, err
	}
	d := portOccupyV1{
		Fault: req.ID, Exe: h.Exe, Deadline: req.Deadline.UTC(), First: p.Port.First, Last: p.Port.Last,
		Protocol: p.Protocol, Addresses: p.Address, NetNS: h.NetNSPath,
	}
	return fault.NewReceipt(k.Info(), fmt.Sprintf("port:%s/%s", p.Protocol, p.Port), d)
}

// checkPortsFree lists the namespace's sockets over sock_diag and refuses
// a port of the range that a socket holds on an overlapping address.
func checkPortsFree(h *fault.Host, p *PortOccupyParams) error {
	nh, err := diagHandle(h.NetNSPath)
	if err != nil {
		return err
	}
	defer nh.Close()
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		var socks []*netlink.Socket
		if p.Protocol == ProtoUDP {
			socks, err = nh.SocketDiagUDP(fam)
		} else {
			socks, err = nh.SocketDiagTCP(fam)
		}
		if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
			return fmt.Errorf("prepare %s: list sockets: %w", PortOccupyID, err)
		}
		for _, s := range socks {
			port := s.ID.SourcePort
			if port < p.Port.First || port > p.Port.Last || p.Protocol == ProtoTCP && s.State == unix.BPF_TCP_TIME_WAIT {
				continue
			}
			src, _ := netip.AddrFromSlice(s.ID.Source)
			src = src.Unmap()
			for _, a := range p.Address {
				if overlaps(a, src, fam) {
					return &fault.ParamError{Param: "port", Message: fmt.Sprintf("%s %s is already in use%s", p.Protocol, netip.AddrPortFrom(src, port), owner(h, s.INode))}
				}
			}
		}
	}
	return nil
}

// overlaps reports whether binding a would clash with a socket bound to src
// in family fam: an unspecified address on either side covers its family,
// and an IPv6 socket on :: may cover IPv4 too (unless IPv6-only, which
// sock_diag does not say).
func overlaps(a, src netip.Addr, fam uint8) bool {
	if fam == unix.AF_INET6 && src.IsUnspecified() && src.Is6() {
		return true
	}
	if a.Is4() != src.Is4() {
		return false
	}
	return a.IsUnspecified() || src.IsUnspecified() || a == src
}

// owner names the process holding a socket inode, for messages: " by pid 12
// (nginx)", or "" when it cannot be found cheaply.
func owner(h *fault.Host, inode uint32) string {
	if inode == 0 {
		return ""
	}
	want := fmt.Sprintf("socket:[%d]", inode)
	ents, _ := os.ReadDir(h.ProcRoot)
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join(h.ProcRoot, e.Name(), "fd"))
		for _, fd := range fds {
			if l, _ := os.Readlink(filepath.Join(h.ProcRoot, e.Name(), "fd", fd.Name())); l == want {
				st, _ := h.ReadProcStat(pid)
				return fmt.Sprintf(" by pid %d (%s)", pid, st.Comm)
			}
		}
	}
	return ""
}

// diagHandle opens a netlink handle in the namespace at path, or in this
// thread's own when path is empty.
func diagHandle(path string) (*netlink.Handle, error) {
	if path == "" {
		return netlink.NewHandle(unix.NETLINK_INET_DIAG)
	}
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("open network namespace %s: %w", path, err)
	}
	defer ns.Close()
	return netlink.NewHandleAt(ns, unix.NETLINK_INET_DIAG)
}

func occupyDir(h *fault.Host, id string) string { return filepath.Join(h.StateDir, "data", id) }

func occupyStatusPath(h *fault.Host, id string) string {
	return filepath.Join(occupyDir(h, id), "status.json")
}

// Apply starts the helper in its own session, records it in the receipt and
// waits until it holds every socket. On failure it stops the helper again.
func (PortOccupy) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodePortOccupy(r)
	if err != nil {
		return err
	}
	dir, err := h.DataDir(d.Fault)
	if err != nil {
		return fmt.Errorf("create helper directory: %w", err)
	}
	status := occupyStatusPath(h, d.Fault)
	if err := os.Remove(status); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove old status: %w", err)
	}
	p, err := spawnOccupy(h, d, dir, status)
	if err != nil {
		return err
	}
	d.Helper = &p
	if err := r.Set(d); err != nil {
		return errors.Join(err, stopOccupy(context.WithoutCancel(ctx), h, p))
	}
	if _, err := waitOccupy(ctx, h, d); err != nil {
		return errors.Join(err, stopOccupy(context.WithoutCancel(ctx), h, p))
	}
	return nil
}

// spawnOccupy starts the helper (see fault.Host.StartHelper).
func spawnOccupy(h *fault.Host, d *portOccupyV1, dir, status string) (fault.Proc, error) {
	args := []string{"helper", portHelperName, "--fault", d.Fault,
		"--deadline", d.Deadline.Format(time.RFC3339Nano), "--ports", d.ports(),
		"--protocol", d.Protocol, "--status", status}
	for _, a := range d.Addresses {
		args = append(args, "--address", a.String())
	}
	if d.NetNS != "" {
		args = append(args, "--netns", d.NetNS)
	}
	return h.StartHelper(d.Exe, args, dir)
}

// waitOccupy waits for the helper's "holding" status.
func waitOccupy(ctx context.Context, h *fault.Host, d *portOccupyV1) (*PortOccupyStatus, error) {
	end := time.Now().Add(occupyReady)
	for delay := 200 * time.Microsecond; ; delay = min(2*delay, 20*time.Millisecond) {
		s, err := ReadPortOccupyStatus(occupyStatusPath(h, d.Fault))
		if err == nil && s.State == "holding" {
			return s, nil
		}
		if err == nil && s.State == "failed" {
			return s, fmt.Errorf("%s helper: %s", portHelperName, s.Reason)
		}
		if d.Helper == nil || !h.Alive(*d.Helper) {
			return nil, fmt.Errorf("%s helper exited without binding", portHelperName)
		}
		if time.Now().After(end) {
			return nil, fmt.Errorf("%s helper bound nothing in %s", portHelperName, occupyReady)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// heldSockets lists the helper's sockets as its /proc/PID/net table shows
// them (its own namespace): local address and port, for sockets whose inode
// is one of the helper's descriptors and whose port is in the range, in the
// LISTEN (tcp) or unconnected (udp) state.
func heldSockets(h *fault.Host, d *portOccupyV1) ([]string, error) {
	pid := strconv.Itoa(d.Helper.PID)
	inodes := map[string]bool{}
	fds, err := os.ReadDir(filepath.Join(h.ProcRoot, pid, "fd"))
	if err != nil {
		return nil, fmt.Errorf("list helper descriptors: %w", err)
	}
	for _, fd := range fds {
		l, _ := os.Readlink(filepath.Join(h.ProcRoot, pid, "fd", fd.Name()))
		if in, ok := strings.CutPrefix(l, "socket:["); ok {
			inodes[strings.TrimSuffix(in, "]")] = true
		}
	}
	state := "0A" // TCP_LISTEN
	if d.Protocol == ProtoUDP {
		state = "07" // TCP_CLOSE: an unconnected UDP socket
	}
	var out []string
	for _, tab := range []string{d.Protocol, d.Protocol + "6"} {
		f, err := os.Open(filepath.Join(h.ProcRoot, pid, "net", tab))
		if err != nil {
			return nil, fmt.Errorf("read helper sockets: %w", err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || fs[3] != state || !inodes[fs[9]] {
				continue
			}
			ap, err := parseProcAddrPort(fs[1])
			if err == nil && ap.Port() >= d.First && ap.Port() <= d.Last {
				out = append(out, d.Protocol+" "+ap.String())
			}
		}
		f.Close()
	}
	slices.Sort(out)
	return out, nil
}

// parseProcAddrPort parses /proc/net/tcp's "0100007F:1F90": the address in
// 32-bit host-order (little-endian) words, then the port in hex.
func parseProcAddrPort(s string) (netip.AddrPort, error) {
	a, p, _ := strings.Cut(s, ":")
	b, err := hex.DecodeString(a)
	if err != nil || len(b)%4 != 0 {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	port, err := strconv.ParseUint(p, 16, 16)
	addr, ok := netip.AddrFromSlice(b)
	if err != nil || !ok {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), nil
}

// Verify checks the helper runs and holds every socket in its /proc net
// table, and, in this process's own namespace, that binding the first port
// as an application would (SO_REUSEADDR for TCP) fails with EADDRINUSE.
func (PortOccupy) Verify(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodePortOccupy(r)
	if err != nil {
		return nil, err
	}
	ev, err := checkHeld(h, d)
	if err != nil {
		return ev, fmt.Errorf("verify %s: %w", PortOccupyID, err)
	}
	if d.NetNS != "" {
		return append(ev, fault.Evidence("bind probe", true, "not measured: the helper is in network namespace %s, not this process's", d.NetNS)), nil
	}
	a := netip.AddrPortFrom(d.Addresses[0], d.First)
	perr := probeBind(d.Protocol, a)
	if !errors.Is(perr, unix.EADDRINUSE) {
		err := fmt.Errorf("binding %s %s as an application would gave %v, not EADDRINUSE", d.Protocol, a, perr)
		return append(ev, fault.Evidence("bind probe", false, "%v", err)), fmt.Errorf("verify %s: %w", PortOccupyID, err)
	}
	return append(ev, fault.Evidence("bind probe", true, "binding %s %s as an application would fails: %v", d.Protocol, a, perr)), nil
}

// checkHeld checks the helper is alive and holds all its sockets.
func checkHeld(h *fault.Host, d *portOccupyV1) ([]bulwark.Evidence, error) {
	if d.Helper == nil || !h.Alive(*d.Helper) {
		err := fmt.Errorf("the %s helper of fault %s is not running", portHelperName, d.Fault)
		return []bulwark.Evidence{fault.Evidence("helper", false, "%v", err)}, err
	}
	held, err := heldSockets(h, d)
	if err != nil {
		return []bulwark.Evidence{fault.Evidence("sockets", false, "%v", err)}, err
	}
	ev := []bulwark.Evidence{fault.Evidence("helper", true, "helper %s runs until %s", d.Helper, d.Deadline.Format(time.RFC3339))}
	if len(held) != d.sockets() {
		err := fmt.Errorf("helper %s holds %d of %d sockets on %s ports %s: %s", d.Helper, len(held), d.sockets(), d.Protocol, d.ports(), strings.Join(held, ", "))
		return append(ev, fault.Evidence("sockets", false, "%v", err)), err
	}
	return append(ev, fault.Evidence("sockets", true, "/proc/%d/net lists the helper's %d sockets: %s", d.Helper.PID, len(held), summarize(held))), nil
}

func summarize(xs []string) string {
	if len(xs) > 8 {
		return strings.Join(xs[:8], ", ") + fmt.Sprintf(", … (%d more)", len(xs)-8)
	}
	return strings.Join(xs, ", ")
}

// probeBind binds a like an application would and closes at once.
func probeBind(proto string, a netip.AddrPort) error {
	if proto == ProtoUDP {
		c, err := net.ListenPacket("udp", a.String())
		if err == nil {
			c.Close()
		}
		return err
	}
	l, err := net.Listen("tcp", a.String())
	if err == nil {
		l.Close()
	}
	return err
}

// Status reports drift: the helper gone or no longer holding every socket.
func (PortOccupy) Status(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodePortOccupy(r)
	if err != nil {
		return nil, err
	}
	ev, err := checkHeld(h, d)
	if err != nil {
		return ev, fmt.Errorf("%s drifted: %w", PortOccupyID, err)
	}
	return ev, nil
}

// Recover stops the journaled helper and any stray of the fault (pid and
// start time checked), which releases the ports, then removes its files.
func (PortOccupy) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodePortOccupy(r)
	if err != nil {
		return err
	}
	if err := h.EndHelpers(ctx, d.ref(), occupyTermWait, occupyKillWait); err != nil {
		return fmt.Errorf("recover %s: %w", PortOccupyID, err)
	}
	return nil
}

// VerifyRecovered checks no helper of the fault runs.
func (PortOccupy) VerifyRecovered(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodePortOccupy(r)
	if err != nil {
		return nil, err
	}
	ev, err := h.HelpersGone(d.ref(), "ports "+d.ports()+" released")
	if err != nil {
		return ev, fmt.Errorf("verify %s recovered: %w", PortOccupyID, err)
	}
	return ev, nil
}

// stopOccupy ends the helper: SIGTERM, then SIGKILL, through h.Signal.
func stopOccupy(ctx context.Context, h *fault.Host, p fault.Proc) error {
	return h.StopHelper(ctx, p, occupyTermWait, occupyKillWait)
}
