package drill

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// CheckRemote applies contract 2 to a drill that runs on a server: a probe
// of a loopback address without `from:` is ambiguous (the server's
// loopback, or the host's?) and is refused, naming the field. `from: local`
// says "from the server's process" and is accepted.
func (d *Drill) CheckRemote(file string) error {
	var bad []string
	for i, p := range d.Spec.SteadyState {
		if p.From != nil {
			continue
		}
		field, addr := "", ""
		switch {
		case p.HTTP != nil:
			field, addr = "http.url", hostOfURL(p.HTTP.URL)
		case p.TCP != nil:
			field, addr = "tcp.address", hostOfAddr(p.TCP.Address)
		case p.Prometheus != nil:
			field, addr = "prometheus.url", hostOfURL(p.Prometheus.URL)
		}
		if addr != "" && isLoopback(addr) {
			bad = append(bad, fmt.Sprintf("%s: spec.steadyState[%d].%s: %s is a loopback address; with --server say where the probe runs (from: local for the server's process, or a selector of agents)", file, i, field, addr))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s", strings.Join(bad, "\n"))
	}
	return nil
}

func hostOfURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

func hostOfAddr(s string) string {
	h, _, err := net.SplitHostPort(s)
	if err != nil {
		return ""
	}
	return h
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
