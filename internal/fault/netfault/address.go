package netfault

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// Address is a --destination value: an IPv4/IPv6 address or CIDR, or a
// host name resolved once, at inject, to every address it has then. The
// fault keeps those addresses (its receipt records them), so a name that
// later resolves elsewhere does not change a running fault.
type Address struct {
	Prefix netip.Prefix
	Host   string
}

// UnmarshalText parses an address, a CIDR or a host name.
func (a *Address) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if c, err := bulwark.ParseCIDR(s); err == nil {
		*a = Address{Prefix: c.Prefix}
		return nil
	}
	if !validHost(s) {
		return fmt.Errorf("%q is not an IP address, a CIDR or a host name", s)
	}
	*a = Address{Host: strings.TrimSuffix(strings.ToLower(s), ".")}
	return nil
}

// MarshalText returns the text form.
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// String returns the address, CIDR or host name.
func (a Address) String() string {
	if a.Host != "" {
		return a.Host
	}
	return bulwark.CIDR{Prefix: a.Prefix}.String()
}

// IsValid reports whether a holds anything.
func (a Address) IsValid() bool { return a.Host != "" || a.Prefix.IsValid() }

// validHost accepts DNS names: labels of letters, digits and hyphens, not
// starting or ending with a hyphen, 253 characters at most, and not all
// digits and dots (a malformed IPv4 address is not a name).
func validHost(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 || strings.Trim(s, "0123456789.") == "" {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// resolveTimeout bounds the resolution of --destination host names.
const resolveTimeout = 5 * time.Second

// resolve returns the prefixes of addrs, host names resolved now, and what
// each name resolved to.
func resolve(addrs []Address) ([]netip.Prefix, map[string][]netip.Addr, error) {
	var out []netip.Prefix
	var names map[string][]netip.Addr
	for _, a := range addrs {
		if a.Host == "" {
			out = append(out, a.Prefix.Masked())
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", a.Host)
		cancel()
		if err != nil || len(ips) == 0 {
			return nil, nil, &fault.ParamError{Param: "destination", Message: fmt.Sprintf("cannot resolve %s: %v", a.Host, err)}
		}
		if names == nil {
			names = map[string][]netip.Addr{}
		}
		for _, ip := range ips {
			ip = ip.Unmap()
			names[a.Host] = append(names[a.Host], ip)
			out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
		}
	}
	return out, names, nil
}
