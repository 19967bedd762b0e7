package alert

import (
	"net"
	"net/netip"
	"strings"
	"time"
)

// DefaultGrace is how long after a fault ends an alert still counts for it.
const DefaultGrace = 5 * time.Minute

// HostRef is a host a drill selected: its name and addresses.
type HostRef struct {
	Name string   `json:"name"`
	IPs  []string `json:"ips,omitempty"`
}

// Window is the span in which an alert counts for a drill step:
// [t_active, t_end + grace]. A zero End means the fault has not ended.
type Window struct {
	Start time.Time
	End   time.Time
}

// StepWindow returns [tActive, tEnd + grace]; a zero tEnd gives an open window.
func StepWindow(tActive, tEnd time.Time, grace time.Duration) Window {
	w := Window{Start: tActive}
	if !tEnd.IsZero() {
		w.End = tEnd.Add(grace)
	}
	return w
}

// Contains reports whether t is in the window (both ends included).
func (w Window) Contains(t time.Time) bool {
	return !t.Before(w.Start) && (w.End.IsZero() || !t.After(w.End))
}

// Correlates reports whether alert a counts for a drill step (contract 4): it
// started within w (StartsAt, or Received when the source gave no start), and
// either one of its host labels (hostLabels, DefaultHostLabels when empty), its
// Host or its HostIP names one of hosts by name or IP (ports are ignored:
// "10.0.0.5:9100" matches 10.0.0.5), or its system (label "system" or System)
// equals system. An alert that started before t_active is a condition that
// predates the fault and does not count.
func Correlates(a Alert, w Window, hosts []HostRef, system string, hostLabels []string) bool {
	start := a.StartsAt
	if start.IsZero() {
		start = a.Received
	}
	if !w.Contains(start) {
		return false
	}
	if system != "" && (strings.EqualFold(a.System, system) || strings.EqualFold(a.Labels["system"], system)) {
		return true
	}
	if len(hostLabels) == 0 {
		hostLabels = DefaultHostLabels
	}
	names := []string{a.Host, a.HostIP}
	for _, l := range hostLabels {
		names = append(names, a.Labels[l])
	}
	for _, n := range names {
		if n = stripHost(n); n == "" {
			continue
		}
		for _, h := range hosts {
			if hostMatches(n, h) {
				return true
			}
		}
	}
	return false
}

// hostMatches compares one host name or address from an alert with a host.
func hostMatches(n string, h HostRef) bool {
	if ip, err := netip.ParseAddr(n); err == nil {
		ip = ip.Unmap()
		for _, s := range append([]string{h.Name}, h.IPs...) {
			if hip, err := netip.ParseAddr(stripHost(s)); err == nil && hip.Unmap() == ip {
				return true
			}
		}
		return false
	}
	return sameName(n, stripHost(h.Name))
}

// sameName compares host names case-insensitively; a short name matches the
// first label of a fully qualified one ("db01" matches "db01.prod.example").
func sameName(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if strings.EqualFold(a, b) {
		return true
	}
	sa, _, _ := strings.Cut(a, ".")
	sb, _, _ := strings.Cut(b, ".")
	return (!strings.Contains(a, ".") || !strings.Contains(b, ".")) && strings.EqualFold(sa, sb)
}

// stripHost reduces an instance label to a host: it drops a scheme, a path, a
// port and a trailing dot ("http://10.0.0.5:9100/metrics" → "10.0.0.5",
// "[fd00::5]:9100" → "fd00::5", "db01.:9100" → "db01").
func stripHost(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	s = strings.Trim(s, "[]")
	return strings.TrimSuffix(s, ".")
}
