package bulwark_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark"
)

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    bulwark.ByteSize
		wantErr bool
	}{
		{"0", 0, false},
		{"4096", 4096, false},
		{"1KiB", 1024, false},
		{"1KB", 1000, false},
		{"1.5GiB", 3 << 29, false},
		{"512MiB", 512 << 20, false},
		{"2 MB", 2_000_000, false},
		{"10B", 10, false},
		{"1.5B", 0, true},
		{"-1", 0, true},
		{"1kib", 0, true},
		{"1e3", 0, true},
		{"; rm -rf /", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := bulwark.ParseByteSize(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseByteSize(%q) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseBitRate(t *testing.T) {
	tests := []struct {
		in      string
		want    bulwark.BitRate
		wantErr bool
	}{
		{"100mbit", 100e6, false},
		{"512kbit", 512e3, false},
		{"1gbit", 1e9, false},
		{"800bit", 800, false},
		{"100", 0, true},
		{"10MB/s", 0, true},
	}
	for _, tt := range tests {
		got, err := bulwark.ParseBitRate(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseBitRate(%q) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	if r, _ := bulwark.ParseByteRate("10MiB/s"); r != 10<<20 {
		t.Errorf("ParseByteRate(10MiB/s) = %d", r)
	}
	if _, err := bulwark.ParseByteRate("10MiB"); err == nil {
		t.Error("ParseByteRate(10MiB) accepted a size without /s")
	}
}

func TestParsePercentCIDRPortRange(t *testing.T) {
	for _, ok := range []string{"0", "50", "12.5", "100", "75%"} {
		if _, err := bulwark.ParsePercent(ok); err != nil {
			t.Errorf("ParsePercent(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"500", "-1", "NaN", "abc", "100.01"} {
		if _, err := bulwark.ParsePercent(bad); err == nil {
			t.Errorf("ParsePercent(%q) accepted", bad)
		}
	}
	for in, want := range map[string]string{"10.0.0.1/8": "10.0.0.0/8", "192.0.2.7": "192.0.2.7", "::1": "::1", "2001:db8::/32": "2001:db8::/32", "ff00::/8": "ff00::/8"} {
		c, err := bulwark.ParseCIDR(in)
		if err != nil || c.String() != want {
			t.Errorf("ParseCIDR(%q) = %v, %v; want %s", in, c, err, want)
		}
	}
	for _, bad := range []string{"example.com", "1.2.3.4; reboot", "$(id)", "10.0.0.0/33", "fe80::1%eth0", ""} {
		if _, err := bulwark.ParseCIDR(bad); err == nil {
			t.Errorf("ParseCIDR(%q) accepted", bad)
		}
	}
	for in, want := range map[string]bulwark.PortRange{"80": {80, 80}, "8000-8100": {8000, 8100}} {
		p, err := bulwark.ParsePortRange(in)
		if err != nil || p != want {
			t.Errorf("ParsePortRange(%q) = %v, %v", in, p, err)
		}
	}
	for _, bad := range []string{"0", "65536", "90-80", "a", "1-", "-1"} {
		if _, err := bulwark.ParsePortRange(bad); err == nil {
			t.Errorf("ParsePortRange(%q) accepted", bad)
		}
	}
}

func TestSelectMode(t *testing.T) {
	for _, ok := range []string{"", "all", "count:3", "percent:50", "percent:100"} {
		if _, _, err := bulwark.SelectMode(ok).Parse(); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"some", "count:0", "count:1.5", "percent:0", "percent:101", "count:"} {
		if _, _, err := bulwark.SelectMode(bad).Parse(); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := (bulwark.Selector{}).Validate(); err == nil {
		t.Error("empty selector accepted")
	}
}

func TestNewID(t *testing.T) {
	a, b := bulwark.NewID(), bulwark.NewID()
	if !bulwark.ValidID(a) || a[14] != '7' {
		t.Fatalf("NewID() = %q, not a UUIDv7", a)
	}
	if a == b {
		t.Fatal("two ids are equal")
	}
}

// FuzzParsers checks that every value parser either rejects its input or
// returns a value whose canonical text parses back to the same value.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{"1KiB", "10mbit", "50", "10.0.0.0/8", "80-90", "1.5GB", "::1", "5MiB/s", "300ms"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		roundTrip(t, s, bulwark.ParseByteSize)
		roundTrip(t, s, bulwark.ParseBitRate)
		roundTrip(t, s, bulwark.ParseByteRate)
		roundTrip(t, s, bulwark.ParsePercent)
		roundTrip(t, s, bulwark.ParseCIDR)
		roundTrip(t, s, bulwark.ParsePortRange)
		roundTrip(t, s, bulwark.ParseDuration)
	})
}

func roundTrip[T interface {
	comparable
	String() string
}](t *testing.T, s string, parse func(string) (T, error)) {
	v, err := parse(s)
	if err != nil {
		return
	}
	again, err := parse(v.String())
	if err != nil || again != v {
		t.Fatalf("%q parsed to %v, whose text %q parses to %v, %v", s, v, v.String(), again, err)
	}
}
