package bulwark

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// The typed parameter values of DESIGN §5.1 contract 8. Each has exactly one
// parser, used by the CLI, drill files, the API and the journal alike, and
// each marshals back to the canonical text its parser accepts.

// Duration is a non-negative time span in Go syntax ("300ms", "1m30s").
type Duration time.Duration

// ParseDuration parses a non-negative Go duration.
func ParseDuration(s string) (Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (use Go syntax such as 300ms, 30s, 5m)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return Duration(d), nil
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String returns d in Go syntax.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	*d = v
	return err
}

// ByteSize is a count of bytes. A bare number is bytes; KiB, MiB, GiB and TiB
// are powers of 1024; KB, MB, GB and TB are powers of 1000, exactly as written.
type ByteSize int64

var byteUnits = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// ParseByteSize parses a size such as "4096", "512MiB" or "1.5GB".
func ParseByteSize(s string) (ByteSize, error) {
	n, err := parseScaled(s, byteUnits)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size (bytes, or a number with KiB, MiB, GiB, KB, MB, GB): %w", s, err)
	}
	return ByteSize(n), nil
}

// String returns the size in the largest binary unit that divides it exactly.
func (b ByteSize) String() string {
	for _, u := range []struct {
		s string
		m int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b != 0 && int64(b)%u.m == 0 {
			return strconv.FormatInt(int64(b)/u.m, 10) + u.s
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// MarshalText implements encoding.TextMarshaler.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *ByteSize) UnmarshalText(t []byte) error {
	v, err := ParseByteSize(string(t))
	*b = v
	return err
}

// BitRate is a rate in bits per second, written with kbit, mbit or gbit (or
// bit) as tc does.
type BitRate int64

var bitUnits = []struct {
	suffix string
	mult   float64
}{{"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9}, {"bit", 1}}

// ParseBitRate parses a rate such as "100mbit" or "512kbit".
func ParseBitRate(s string) (BitRate, error) {
	if !hasSuffixIn(s, bitUnits) {
		return 0, fmt.Errorf("%q is not a bit rate (use kbit, mbit or gbit, e.g. 10mbit)", s)
	}
	n, err := parseScaled(s, bitUnits)
	if err != nil {
		return 0, fmt.Errorf("%q is not a bit rate: %w", s, err)
	}
	return BitRate(n), nil
}

// String returns the rate in the largest unit that divides it exactly.
func (r BitRate) String() string {
	switch {
	case r != 0 && r%1e9 == 0:
		return strconv.FormatInt(int64(r/1e9), 10) + "gbit"
	case r != 0 && r%1e6 == 0:
		return strconv.FormatInt(int64(r/1e6), 10) + "mbit"
	case r != 0 && r%1e3 == 0:
		return strconv.FormatInt(int64(r/1e3), 10) + "kbit"
	}
	return strconv.FormatInt(int64(r), 10) + "bit"
}

// MarshalText implements encoding.TextMarshaler.
func (r BitRate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *BitRate) UnmarshalText(t []byte) error {
	v, err := ParseBitRate(string(t))
	*r = v
	return err
}

// ByteRate is a rate in bytes per second, written as a ByteSize followed by
// "/s" ("512KB/s", "10MiB/s").
type ByteRate int64

// ParseByteRate parses a rate such as "10MiB/s".
func ParseByteRate(s string) (ByteRate, error) {
	size, ok := strings.CutSuffix(strings.TrimSpace(s), "/s")
	if !ok {
		return 0, fmt.Errorf("%q is not a byte rate (use a size per second, e.g. 10MiB/s)", s)
	}
	n, err := ParseByteSize(size)
	if err != nil {
		return 0, fmt.Errorf("%q is not a byte rate: %w", s, err)
	}
	return ByteRate(n), nil
}

// String returns the rate as a size per second.
func (r ByteRate) String() string { return ByteSize(r).String() + "/s" }

// MarshalText implements encoding.TextMarshaler.
func (r ByteRate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *ByteRate) UnmarshalText(t []byte) error {
	v, err := ParseByteRate(string(t))
	*r = v
	return err
}

// Percent is a share from 0 to 100 inclusive; a trailing "%" is accepted.
type Percent float64

// ParsePercent parses "50", "12.5" or "75%".
func ParsePercent(s string) (Percent, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "%")
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a percentage", s)
	}
	if f < 0 || f > 100 {
		return 0, fmt.Errorf("%s is out of range (0 to 100)", t)
	}
	return Percent(f), nil
}

// String returns the number without a percent sign.
func (p Percent) String() string { return strconv.FormatFloat(float64(p), 'f', -1, 64) }

// MarshalText implements encoding.TextMarshaler.
func (p Percent) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Percent) UnmarshalText(t []byte) error {
	v, err := ParsePercent(string(t))
	*p = v
	return err
}

// CIDR is an IPv4 or IPv6 prefix. A bare address is a single-host prefix.
type CIDR struct{ netip.Prefix }

// ParseCIDR parses "10.0.0.0/8", "2001:db8::/32" or "192.0.2.7".
func ParseCIDR(s string) (CIDR, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return CIDR{p.Masked()}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return CIDR{}, fmt.Errorf("%q is not an IP address or CIDR", s)
	}
	return CIDR{netip.PrefixFrom(a, a.BitLen())}, nil
}

// String returns the prefix, or the bare address for a single host.
func (c CIDR) String() string {
	if !c.IsValid() {
		return ""
	}
	if c.IsSingleIP() {
		return c.Addr().String()
	}
	return c.Prefix.String()
}

// MarshalText implements encoding.TextMarshaler.
func (c CIDR) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *CIDR) UnmarshalText(t []byte) error {
	v, err := ParseCIDR(string(t))
	*c = v
	return err
}

// PortRange is an inclusive range of ports from 1 to 65535: "8080" or
// "8000-8100".
type PortRange struct{ First, Last uint16 }

// ParsePortRange parses a port or an inclusive range of ports.
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "-")
	first, err := parsePort(lo)
	if err != nil {
		return PortRange{}, fmt.Errorf("%q is not a port or port range: %w", s, err)
	}
	last := first
	if isRange {
		if last, err = parsePort(hi); err != nil {
			return PortRange{}, fmt.Errorf("%q is not a port or port range: %w", s, err)
		}
	}
	if last < first {
		return PortRange{}, fmt.Errorf("port range %q ends before it starts", s)
	}
	return PortRange{first, last}, nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a port from 1 to 65535", s)
	}
	return uint16(n), nil
}

// IsZero reports whether no port is set.
func (p PortRange) IsZero() bool { return p.First == 0 }

// String returns "N" or "N-M".
func (p PortRange) String() string {
	if p.IsZero() {
		return ""
	}
	if p.First == p.Last {
		return strconv.Itoa(int(p.First))
	}
	return fmt.Sprintf("%d-%d", p.First, p.Last)
}

// MarshalText implements encoding.TextMarshaler.
func (p PortRange) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *PortRange) UnmarshalText(t []byte) error {
	v, err := ParsePortRange(string(t))
	*p = v
	return err
}

// parseScaled parses a non-negative decimal number followed by one of the
// unit suffixes (tried in order, so longer suffixes come first in the table);
// a bare number is taken as the unit of multiplier 1.
func parseScaled(s string, units []struct {
	suffix string
	mult   float64
}) (int64, error) {
	s = strings.TrimSpace(s)
	num, mult := s, 1.0
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(num, "eExXpP_") {
		return 0, fmt.Errorf("bad number %q", num)
	}
	if f < 0 {
		return 0, fmt.Errorf("negative value")
	}
	v := f * mult
	if v > math.MaxInt64/2 {
		return 0, fmt.Errorf("value too large")
	}
	if v != math.Trunc(v) {
		return 0, fmt.Errorf("not a whole number of units")
	}
	return int64(v), nil
}

func hasSuffixIn(s string, units []struct {
	suffix string
	mult   float64
}) bool {
	for _, u := range units {
		if strings.HasSuffix(strings.TrimSpace(s), u.suffix) {
			return true
		}
	}
	return false
}
