//go:build linux

package netfault_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/internal/nstest"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/nft"
)

// BenchmarkShapeInjectRecover measures the shaping kinds through the host
// manager on a veth of a namespace of its own, as BenchmarkInjectRecover
// does for net.partition: inject→active (Prepare with its probes, the
// class, the table, the read-back) and recover→gone. The partition
// sub-benchmark is the baseline of the same run. The netem kinds run
// where the kernel has netem. "warm" first hooks a table in another
// namespace, as on any host with a firewall (see BenchmarkInjectRecover).
func BenchmarkShapeInjectRecover(b *testing.B) {
	b.Run("cold", benchShape)
	b.Run("warm", func(b *testing.B) {
		hookElsewhere(b)
		hookPostroutingElsewhere(b)
		benchShape(b)
	})
}

// hookPostroutingElsewhere keeps a table with a base chain on postrouting
// in a namespace of its own for the rest of the benchmark, so that the
// shaping kinds' postrouting chain does not flip the kernel's static key.
func hookPostroutingElsewhere(b *testing.B) {
	other := nstest.New(b)
	c, err := nft.Open(other.Path, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	err = c.Create(&nft.Table{Family: nftables.TableFamilyINet, Name: "shaper", Chains: []nft.Chain{
		{Name: "postrouting", Hook: *nftables.ChainHookPostrouting, Priority: *nftables.ChainPriorityFilter},
	}})
	if err != nil {
		b.Fatal(err)
	}
}

func benchShape(b *testing.B) {
	for _, c := range []struct {
		kind   string
		params map[string]string
		netem  bool
	}{
		{"net.partition", map[string]string{"destination": peer4, "port": "9000", "protocol": "tcp"}, false},
		{"net.bandwidth", map[string]string{"rate": "8mbit", "destination": peer4, "port": "9000", "protocol": "tcp"}, false},
		{"net.bandwidth-ingress", map[string]string{"rate": "8mbit", "destination": peer4, "port": "9000", "protocol": "tcp", "direction": "ingress"}, false},
		{"net.delay", map[string]string{"delay": "10ms", "destination": peer4, "port": "9000", "protocol": "tcp"}, true},
		{"net.loss-netem", map[string]string{"percent": "10", "destination": peer4, "port": "9000", "protocol": "tcp"}, true},
	} {
		b.Run(c.kind, func(b *testing.B) {
			if ok, how := netfault.NetemAvailable(); c.netem && !ok {
				b.Skipf("no netem: %s", how)
			}
			kind, _, _ := strings.Cut(c.kind, "-")
			p := newPair(b)
			m := openManager(b, newHost(b, p.ns))
			spec := bulwark.FaultSpec{Kind: kind, Params: c.params, Duration: bulwark.Duration(time.Minute)}
			ctx := context.Background()
			var inj, rec []time.Duration
			for b.Loop() {
				t0 := time.Now()
				f, err := m.Inject(ctx, spec)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := m.Recover(ctx, f.ID); err != nil {
					b.Fatal(err)
				}
				inj, rec = append(inj, t1.Sub(t0)), append(rec, time.Since(t1))
			}
			report(b, "inject", inj)
			report(b, "recover", rec)
		})
	}
}

// BenchmarkClassifyMiss measures what a fault costs a flow it does not
// match: UDP datagrams to the peer's port 9001 sent one at a time, with no
// fault (the baseline), with a net.partition fault on port 9000 (an
// nftables output chain only) and with a net.bandwidth fault on port 9000
// (its classification rule on postrouting and bulwark's htb root, which
// replaces the veth's noqueue, in the way). ns/op is per datagram.
func BenchmarkClassifyMiss(b *testing.B) {
	for _, kind := range []string{"", "net.partition", "net.bandwidth"} {
		name := "baseline"
		if kind != "" {
			name = kind + "-on-another-port"
		}
		b.Run(name, func(b *testing.B) {
			p := newPair(b)
			p.udpSink(b, peer4+":9001")
			if kind != "" {
				m := openManager(b, newHost(b, p.ns))
				params := map[string]string{"destination": peer4, "port": "9000", "protocol": "udp"}
				if kind == "net.bandwidth" {
					params["rate"] = "8mbit"
				}
				injectKind(b, m, kind, params, time.Minute)
			}
			var c net.Conn
			if err := p.ns.Do(func() (err error) { c, err = net.Dial("udp", peer4+":9001"); return err }); err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			msg := make([]byte, 64)
			for b.Loop() {
				if _, err := c.Write(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
