package drill

import (
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/yamldoc"
)

func (v *validator) steadyState(probes []Probe) {
	for i := range probes {
		p := &probes[i]
		path := yamldoc.Elem("spec.steadyState", i)
		if p.Name != "" && slices.Contains(v.probes, p.Name) {
			v.doc.Errorf(yamldoc.Join(path, "name"), "probe %q is defined twice", p.Name)
		}
		if p.Name != "" {
			v.probes = append(v.probes, p.Name)
		}
		v.probe(p, path)
	}
}

func (v *validator) probe(p *Probe, path string) {
	var set []string
	for _, c := range p.checks() {
		if c.set {
			set = append(set, c.name)
		}
	}
	switch len(set) {
	case 0:
		v.doc.Errorf(path, "needs one check: http, tcp, command, prometheus, sql or load")
	case 1:
	default:
		v.doc.Errorf(yamldoc.Join(path, set[1]), "a probe has one check; this one has %s", strings.Join(set, " and "))
	}
	if p.Interval == 0 {
		p.Interval = DefaultInterval
	}
	if p.Timeout == 0 {
		p.Timeout = DefaultTimeout
	}
	if p.Tolerance == nil {
		p.Tolerance = &Tolerance{}
	}
	if p.Tolerance.MinSuccessRate == nil {
		one := 1.0
		p.Tolerance.MinSuccessRate = &one
	}
	if p.Tolerance.MinSamples == 0 {
		p.Tolerance.MinSamples = DefaultMinSamples
	}
	if p.From != nil && p.From.Selector != nil {
		p.From.Selector = v.selector(p.From.Selector, yamldoc.Join(path, "from"))
	}
	switch {
	case p.HTTP != nil:
		v.httpCheck(p.HTTP, yamldoc.Join(path, "http"), p.From)
	case p.TCP != nil:
		v.tcpCheck(p.TCP, yamldoc.Join(path, "tcp"), p.From)
	case p.Command != nil:
		v.argv(p.Command.Argv, yamldoc.Join(path, "command.argv"))
	case p.Prometheus != nil:
		v.url(p.Prometheus.URL, yamldoc.Join(path, "prometheus.url"), p.From)
	case p.Load != nil:
		v.httpCheck(&p.Load.HTTP, yamldoc.Join(path, "load.http"), p.From)
		if p.Load.Rate < 0 {
			v.doc.Errorf(yamldoc.Join(path, "load.rate"), "must be above 0 requests per second")
		}
		if p.Load.Concurrency == 0 {
			p.Load.Concurrency = 1
		}
	}
}

func (v *validator) httpCheck(h *HTTPCheck, path string, from *From) {
	v.url(h.URL, yamldoc.Join(path, "url"), from)
	if h.Method == "" {
		h.Method = "GET"
	} else if !pattern(`^[A-Z]+$`).MatchString(h.Method) {
		v.doc.Errorf(yamldoc.Join(path, "method"), "%q is not an HTTP method (GET, POST, …)", h.Method)
	}
	v.statuses(h.ExpectStatus, yamldoc.Join(path, "expectStatus"))
}

func (v *validator) statuses(codes []int, path string) {
	for i, c := range codes {
		if c < 100 || c > 599 {
			v.doc.Errorf(yamldoc.Elem(path, i), "%d is not an HTTP status", c)
		}
	}
}

// url checks an http(s) URL and, for a server run, that a loopback URL
// says where the probe runs.
func (v *validator) url(raw, path string, from *From) {
	if raw == "" {
		return // reported as required
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.doc.Errorf(path, "%q is not an http or https URL", raw)
		return
	}
	v.loopback(u.Hostname(), raw, path, from)
}

func (v *validator) tcpCheck(t *TCPCheck, path string, from *From) {
	if t.Address == "" {
		return
	}
	host, port, err := net.SplitHostPort(t.Address)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
		v.doc.Errorf(yamldoc.Join(path, "address"), "%q is not host:port", t.Address)
		return
	}
	v.loopback(host, t.Address, yamldoc.Join(path, "address"), from)
}

// loopback reports a loopback target with no from: when validating for a
// server run (contract 2): the probe would test the server's own host.
func (v *validator) loopback(host, raw, path string, from *From) {
	if !v.o.ForServer || from != nil {
		return
	}
	ip, err := netip.ParseAddr(host)
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || err == nil && ip.IsLoopback() {
		v.doc.Errorf(path, "%q is a loopback address: for a run through the server, say where the probe runs with from: (local or a selector)", raw)
	}
}

func (v *validator) argv(argv []string, path string) {
	if len(argv) > 0 && strings.TrimSpace(argv[0]) == "" {
		v.doc.Errorf(yamldoc.Elem(path, 0), "the executable is empty")
	}
}
