//go:build linux

package nft_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark/internal/fault/netfault/internal/nstest"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/nft"
)

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestRanges(t *testing.T) {
	tests := []struct {
		name string
		in   []netip.Prefix
		want []string
	}{
		{"single host", prefixes("127.0.0.1/32"), []string{"127.0.0.1"}},
		{"nested is merged", prefixes("10.1.0.0/16", "10.0.0.0/8"), []string{"10.0.0.0/8"}},
		{"adjacent halves merge", prefixes("10.0.0.128/25", "10.0.0.0/25"), []string{"10.0.0.0/24"}},
		{"adjacent non-prefix", prefixes("10.0.0.1/32", "10.0.0.2/32"), []string{"10.0.0.1-10.0.0.2"}},
		{"disjoint sorted", prefixes("192.0.2.0/24", "10.0.0.0/8"), []string{"10.0.0.0/8", "192.0.2.0/24"}},
		{"everything v4", prefixes("0.0.0.0/0", "10.0.0.0/8"), []string{"0.0.0.0/0"}},
		{"everything v6", prefixes("::/0"), []string{"::/0"}},
		{"v6 host", prefixes("::1/128"), []string{"::1"}},
		{"up to the top", prefixes("255.255.255.255/32", "255.255.255.254/32"), []string{"255.255.255.254/31"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range nft.Ranges(tt.in) {
				got = append(got, r.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Ranges = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name string
		rule nft.Rule
		want string
	}{
		{"v4 daddr tcp port drop", nft.NewRule(nft.NFProto(false), nft.AddrInSet(false, false, "dst4"), nft.L4Proto(unix.IPPROTO_TCP), nft.PortIn(false, 8080, 8080), nft.Counter(), nft.Drop()),
			"meta nfproto ipv4 ip daddr @dst4 meta l4proto tcp th dport 8080 counter drop"},
		{"v6 saddr udp range reject", nft.NewRule(nft.NFProto(true), nft.AddrInSet(true, true, "dst6"), nft.L4Proto(unix.IPPROTO_UDP), nft.PortIn(false, 8000, 8100), nft.RejectICMPX(unix.NFT_REJECT_ICMPX_PORT_UNREACH)),
			"meta nfproto ipv6 ip6 saddr @dst6 meta l4proto udp th dport 8000-8100 reject with icmpx port-unreachable"},
		{"management port accept", nft.NewRule(nft.L4Proto(unix.IPPROTO_TCP), nft.PortInSet(true, "mgmt_ports"), nft.Accept()),
			"meta l4proto tcp th sport @mgmt_ports accept"},
		{"reset passes", nft.NewRule(nft.L4Proto(unix.IPPROTO_TCP), nft.TCPFlagSet(0x04), nft.Accept()),
			"meta l4proto tcp tcp flags & 0x04 ^ 0x00 != 0x00 accept"},
		{"unreachable passes", nft.NewRule(nft.NFProto(false), nft.L4Proto(unix.IPPROTO_ICMP), nft.ICMPType(3), nft.Accept()),
			"meta nfproto ipv4 meta l4proto icmp th type 0x03 accept"},
		{"tcp reset", nft.NewRule(nft.L4Proto(unix.IPPROTO_TCP), nft.RejectTCPReset()), "meta l4proto tcp reject with tcp reset"},
		{"random drop", nft.NewRule(nft.L4Proto(unix.IPPROTO_UDP), nft.Counter(), nft.RandomBelow(10000, 3000), nft.Counter(), nft.Drop()),
			"meta l4proto udp counter numgen random mod 10000 < 3000 counter drop"},
		{"loopback passes", nft.NewRule(nft.FromLoopback(), nft.Accept()), "meta iiftype loopback accept"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nft.Render(tt.rule.Exprs); got != tt.want {
				t.Errorf("Render = %q, want %q", got, tt.want)
			}
		})
	}
}

func sampleTable(name string, timeout time.Duration) *nft.Table {
	return &nft.Table{
		Family: nftables.TableFamilyINet, Name: name,
		Sets: []nft.Set{
			{Name: "dst4", Key: nft.KeyIPv4, Interval: true, Timeout: timeout, Prefixes: prefixes("127.0.0.1/32", "10.0.0.0/8", "0.0.0.0/0")[:2]},
			{Name: "dst6", Key: nft.KeyIPv6, Interval: true, Timeout: timeout, Prefixes: prefixes("::/0")},
			{Name: "mgmt_ports", Key: nft.KeyPort, Constant: true, Ports: []uint16{22, 3389}},
		},
		Chains: []nft.Chain{{
			Name: "egress", Hook: *nftables.ChainHookOutput, Priority: *nftables.ChainPriorityFilter,
			Rules: []nft.Rule{
				nft.NewRule(nft.L4Proto(unix.IPPROTO_TCP), nft.PortInSet(true, "mgmt_ports"), nft.Accept()),
				nft.NewRule(nft.NFProto(false), nft.AddrInSet(false, false, "dst4"), nft.L4Proto(unix.IPPROTO_TCP), nft.PortIn(false, 8080, 8080), nft.Counter(), nft.RejectTCPReset()),
				nft.NewRule(nft.NFProto(true), nft.AddrInSet(true, false, "dst6"), nft.Counter(), nft.RejectICMPX(unix.NFT_REJECT_ICMPX_ADMIN_PROHIBITED)),
			},
		}},
	}
}

func TestTableLifecycle(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	c, err := nft.Open(ns.Path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := sampleTable("bulwark_test", 5*time.Second)

	if err := c.Probe(want); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if names, _ := c.ListTables(); len(names) != 0 {
		t.Fatalf("Probe left tables behind: %v", names)
	}
	if err := c.Create(want); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := c.Create(want); err == nil {
		t.Fatal("Create of an existing table succeeded")
	}
	got, err := c.Read(want.Family, want.Name)
	if err != nil {
		t.Fatal(err)
	}
	if diffs := nft.Compare(want, got); len(diffs) > 0 {
		t.Fatalf("Compare after Create:\n%s", strings.Join(diffs, "\n"))
	}
	for _, s := range got.Sets {
		t.Logf("set %s: %v %+v", s.Name, s.ElementRanges(), s.Elements)
		if s.Name == "dst4" && !slices.Equal(s.ElementRanges(), []string{"10.0.0.0/8", "127.0.0.1"}) {
			t.Errorf("dst4 read back as %v", s.ElementRanges())
		}
	}
	// A rule someone else changes shows up as a difference.
	drifted := sampleTable("bulwark_test", 5*time.Second)
	drifted.Chains[0].Rules = drifted.Chains[0].Rules[:2]
	if diffs := nft.Compare(drifted, got); len(diffs) != 1 {
		t.Errorf("Compare with a rule too many = %v, want one difference", diffs)
	}
	if existed, err := c.Delete(want.Family, want.Name); err != nil || !existed {
		t.Fatalf("Delete = %t, %v", existed, err)
	}
	if existed, err := c.Delete(want.Family, want.Name); err != nil || existed {
		t.Fatalf("second Delete = %t, %v, want false, nil", existed, err)
	}
	if got, err := c.Read(want.Family, want.Name); err != nil || got != nil {
		t.Fatalf("Read after Delete = %v, %v", got, err)
	}
}

func TestOpenChecksInode(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	if _, err := nft.Open(ns.Path, 12345); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Fatalf("Open with the wrong inode: %v, want namespace gone", err)
	}
	if _, err := nft.Open("/proc/self/fd/999999", 1); err == nil {
		t.Fatal("Open of a missing path succeeded")
	}
}
