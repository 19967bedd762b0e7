//go:build linux

package tc

import (
	"fmt"
	"net/netip"
	"testing"
)

func TestPortBlocks(t *testing.T) {
	for _, c := range []struct {
		first, last uint16
		want        string
	}{
		{80, 80, "[[80 80]]"},
		{8000, 8100, "[[8000 8063] [8064 8095] [8096 8099] [8100 8100]]"},
		{1, 65535, "[[1 1] [2 3] [4 7] [8 15] [16 31] [32 63] [64 127] [128 255] [256 511] [512 1023] [1024 2047] [2048 4095] [4096 8191] [8192 16383] [16384 32767] [32768 65535]]"},
		{0, 65535, "[[0 65535]]"},
	} {
		got := fmt.Sprint(portBlocks(c.first, c.last))
		if got != c.want {
			t.Errorf("portBlocks(%d, %d) = %s, want %s", c.first, c.last, got, c.want)
		}
		// Every port in the range is in exactly one block, none outside.
		for p := uint32(0); p <= 65535; p++ {
			n := 0
			for _, b := range portBlocks(c.first, c.last) {
				k := portKey(false, false, b[0], b[1])
				if p&k.Mask == k.Val {
					n++
				}
			}
			in := p >= uint32(c.first) && p <= uint32(c.last)
			if in && n != 1 || !in && n != 0 {
				t.Fatalf("range %d-%d: port %d is in %d blocks", c.first, c.last, p, n)
			}
		}
	}
}

func TestSrcKeys(t *testing.T) {
	for _, c := range []struct{ prefix, want string }{
		{"10.88.0.2/32", "[{Mask:4294967295 Val:173539330 Off:12 OffMask:0}]"},
		{"10.0.0.0/8", "[{Mask:4278190080 Val:167772160 Off:12 OffMask:0}]"},
		{"0.0.0.0/0", "[]"},
		{"fd88::/16", "[{Mask:4294901760 Val:4253548544 Off:8 OffMask:0}]"},
		{"ff00::/8", "[{Mask:4278190080 Val:4278190080 Off:8 OffMask:0}]"},
		{"fd88::2/128", "[{Mask:4294967295 Val:4253548544 Off:8 OffMask:0} {Mask:4294967295 Val:0 Off:12 OffMask:0} {Mask:4294967295 Val:0 Off:16 OffMask:0} {Mask:4294967295 Val:2 Off:20 OffMask:0}]"},
	} {
		if got := fmt.Sprintf("%+v", srcKeys(netip.MustParsePrefix(c.prefix))); got != c.want {
			t.Errorf("srcKeys(%s) = %s, want %s", c.prefix, got, c.want)
		}
	}
}
