package netfault

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(DNS{}) }

// DNSID is net.dns's identifier.
const DNSID = "net.dns"

// The values of net.dns --mode.
const (
	DNSOverride = "override"
	DNSFail     = "fail"
)

// Bounds on net.dns's lists, so that one fault stays one small block.
const (
	maxDNSNames     = 32
	maxDNSAddresses = 8
)

// failAddresses are what --mode fail maps a name to: the unspecified
// addresses, the usual hosts-file sinkhole.
var failAddresses = []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()}

// DNSParams are net.dns's parameters.
type DNSParams struct {
	Host    []string     `param:"host,required,target" help:"DNS names to fault, comma-separated; never the Bulwark server's name, localhost or this host's own name"`
	Mode    string       `param:"mode" default:"override" enum:"override,fail" help:"override: map the names to --address; fail: map them to 0.0.0.0 and :: (a hosts file cannot make a lookup fail: the name still resolves, to addresses that on Linux a connect() treats as this host, so clients get connection refused unless something listens locally on the port)"`
	Address []netip.Addr `param:"address" help:"with --mode override: the IPv4/IPv6 addresses the names resolve to, comma-separated"`
}

// Validate checks the names and the addresses against the mode.
func (p *DNSParams) Validate() error {
	if len(p.Host) > maxDNSNames {
		return &fault.ParamError{Param: "host", Message: fmt.Sprintf("%d names is more than %d", len(p.Host), maxDNSNames)}
	}
	seen := map[string]bool{}
	var names []string
	for _, h := range p.Host {
		n, err := canonicalName(h)
		if err != nil {
			return &fault.ParamError{Param: "host", Message: err.Error()}
		}
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	p.Host = names
	switch {
	case p.Mode == DNSOverride && len(p.Address) == 0:
		return &fault.ParamError{Param: "address", Message: "is required with --mode override"}
	case p.Mode == DNSFail && len(p.Address) > 0:
		return &fault.ParamError{Param: "address", Message: "is not used with --mode fail (the names map to 0.0.0.0 and ::)"}
	case len(p.Address) > maxDNSAddresses:
		return &fault.ParamError{Param: "address", Message: fmt.Sprintf("%d addresses is more than %d", len(p.Address), maxDNSAddresses)}
	}
	for i, a := range p.Address {
		if !a.IsValid() || a.Zone() != "" {
			return &fault.ParamError{Param: "address", Message: fmt.Sprintf("%q is not a plain IPv4 or IPv6 address", a)}
		}
		p.Address[i] = a.Unmap()
	}
	return nil
}

// canonicalName lower-cases a DNS name, drops one trailing dot and checks it:
// letters, digits, hyphens and underscores in labels of 1 to 63 characters,
// no label starting or ending with a hyphen, at most 253 characters, and not
// an IP address. Nothing else (no spaces, no '#', no shell characters) can
// reach the hosts file.
func canonicalName(s string) (string, error) {
	n := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if n == "" || len(n) > 253 {
		return "", fmt.Errorf("%q is not a DNS name (1 to 253 characters)", s)
	}
	if _, err := netip.ParseAddr(n); err == nil {
		return "", fmt.Errorf("%q is an address, not a name", s)
	}
	for _, l := range strings.Split(n, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", fmt.Errorf("%q is not a DNS name: label %q", s, l)
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("%q is not a DNS name: character %q", s, c)
			}
		}
	}
	return n, nil
}

// deniedNames returns the names net.dns never touches on h, each with why:
// the server's names (and their first labels), localhost and this host's own
// name (and its first label).
func deniedNames(h *fault.Host) map[string]string {
	deny := map[string]string{}
	add := func(name, why string) {
		n, err := canonicalName(name)
		if err != nil {
			return
		}
		deny[n] = why
		if short, _, ok := strings.Cut(n, "."); ok {
			if _, dup := deny[short]; !dup {
				deny[short] = why + " (short name)"
			}
		}
	}
	for _, n := range []string{"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"} {
		add(n, "localhost")
	}
	if hn, err := os.Hostname(); err == nil {
		add(hn, "this host's own name")
	}
	for _, s := range h.ServerNames {
		add(s, "the Bulwark server's name (the management plane, DESIGN §6.10)")
	}
	return deny
}

// checkDenied refuses names on the deny-list, naming the parameter.
func checkDenied(h *fault.Host, names []string) error {
	deny := deniedNames(h)
	for _, n := range names {
		if why, ok := deny[n]; ok {
			return &fault.ParamError{Param: "host", Message: fmt.Sprintf("%s is %s and is never faulted", n, why)}
		}
		if strings.HasSuffix(n, ".localhost") {
			return &fault.ParamError{Param: "host", Message: fmt.Sprintf("%s is under localhost and is never faulted", n)}
		}
	}
	return nil
}

// DNS is net.dns: a block of lines of the fault's own, between marker
// comments, in the hosts file maps names to chosen addresses (override) or
// to the unspecified addresses (fail).
type DNS struct{}

// dnsV1 is net.dns's receipt data, version 1.
type dnsV1 struct {
	Fault     string       `json:"fault"`
	HostsFile string       `json:"hostsFile"`
	Names     []string     `json:"names"`
	Mode      string       `json:"mode"`
	Addresses []netip.Addr `json:"addresses"`
	// Block is the exact text of the fault's lines, markers included.
	Block string `json:"block"`
	// AddedNewline is set by Apply when the file did not end in a newline
	// and one was written before the block; Recover takes it away again.
	AddedNewline bool `json:"addedNewline,omitempty"`
	// Exe runs the lookup that proves the effect in a fresh process.
	Exe string `json:"exe,omitempty"`
}

// Info implements fault.Kind.
func (DNS) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             DNSID,
		Summary:        "Override names in the hosts file, or point them at 0.0.0.0/:: (never the Bulwark server's name)",
		SummaryZH:      "DNS 故障：在 hosts 文件中改写域名解析，或指向 0.0.0.0/::（从不改写 Bulwark 服务器的域名）",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesFilesystem,
		ReceiptVersion: 1,
		NewParams:      func() any { return new(DNSParams) },
	}
}

// markers returns the fault's begin and end comment lines, without newlines.
func markers(id string) (begin, end string) {
	return "# bulwark fault " + id + " begin", "# bulwark fault " + id + " end"
}

// dnsBlock returns the lines the fault adds, markers included.
func dnsBlock(id, mode string, names []string, addrs []netip.Addr) string {
	begin, end := markers(id)
	var b strings.Builder
	b.WriteString(begin + "\n")
	fmt.Fprintf(&b, "# net.dns --mode %s: `bulwark fault recover %s` removes this block; do not edit it\n", mode, id)
	for _, a := range addrs {
		b.WriteString(a.String() + "\t" + strings.Join(names, " ") + "\n")
	}
	b.WriteString(end + "\n")
	return b.String()
}

// dnsResource names what the fault changes: its names in the hosts file.
// The manager compares whole strings; Prepare also refuses a name another
// bulwark block in the file already maps, which covers overlapping lists.
func dnsResource(names []string) string {
	s := slices.Clone(names)
	slices.Sort(s)
	return "dns:" + strings.Join(s, ",")
}

// decodeDNS reads receipt data of any version this binary knows.
func decodeDNS(r *fault.Receipt) (*dnsV1, error) {
	if r.Version != 1 {
		return nil, fmt.Errorf("net.dns receipt v%d is not known to this binary: %w", r.Version, bulwark.ErrNewerReceipt)
	}
	var d dnsV1
	if err := r.Decode(&d); err != nil {
		return nil, err
	}
	if !bulwark.ValidID(d.Fault) || d.HostsFile == "" || d.Block == "" {
		return nil, fmt.Errorf("net.dns receipt has no fault id, hosts file or block")
	}
	return &d, nil
}

func (d *dnsV1) summary() string {
	if d.Mode == DNSFail {
		return fmt.Sprintf("%s map to 0.0.0.0 and :: in %s (the names still resolve: a hosts file cannot make a lookup fail; on Linux connecting to 0.0.0.0 or :: reaches this host, so clients get connection refused unless something listens locally on the port)",
			strings.Join(d.Names, ", "), d.HostsFile)
	}
	return fmt.Sprintf("%s map to %s in %s", strings.Join(d.Names, ", "), addrList(d.Addresses), d.HostsFile)
}

func addrList(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

var (
	_ fault.Kind      = DNS{}
	_ fault.Statuser  = DNS{}
	_ fault.Validator = (*DNSParams)(nil)
)
