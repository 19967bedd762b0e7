//go:build linux

package netfault_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/nftables"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/internal/nstest"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/nft"
)

// BenchmarkInjectRecover measures net.partition through the host manager in
// a network namespace of its own: inject→active (sweep, Prepare with its
// kernel probe, journal fsync, the atomic batch, journal fsync, read-back
// Verify, journal fsync) and recover→gone (journal fsync, delete, read-back
// VerifyRecovered, journal fsync). The state directory is on the test's
// temporary directory. It reports the medians and p99s as custom metrics;
// the target is a median of at most 10 ms for each.
//
// "cold" runs on a machine where nothing else has an nftables or iptables
// hook on input and output, so every inject and recover also flips the
// kernel's global static keys for those hooks (a live code patch across
// CPUs, milliseconds in a VM). "warm" first hooks a table in another
// namespace of its own, as any host with a firewall has, and measures the
// fault alone.
func BenchmarkInjectRecover(b *testing.B) {
	nstest.Require(b)
	b.Run("cold", benchInjectRecover)
	b.Run("warm", func(b *testing.B) {
		hookElsewhere(b)
		benchInjectRecover(b)
	})
}

// hookElsewhere keeps a table with base chains on input and output in a
// namespace of its own for the rest of the benchmark.
func hookElsewhere(b *testing.B) {
	other := nstest.New(b)
	c, err := nft.Open(other.Path, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	err = c.Create(&nft.Table{Family: nftables.TableFamilyINet, Name: "firewall", Chains: []nft.Chain{
		{Name: "output", Hook: *nftables.ChainHookOutput, Priority: *nftables.ChainPriorityFilter},
		{Name: "input", Hook: *nftables.ChainHookInput, Priority: *nftables.ChainPriorityFilter},
	}})
	if err != nil {
		b.Fatal(err)
	}
}

func benchInjectRecover(b *testing.B) {
	ns := nstest.New(b)
	h := newHost(b, ns)
	m := openManager(b, h)
	ctx := context.Background()
	spec := bulwark.FaultSpec{Kind: kindID, Duration: bulwark.Duration(time.Minute),
		Params: map[string]string{"destination": "127.0.0.1", "port": "8080", "protocol": "tcp"}}
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
}

func report(b *testing.B, name string, ds []time.Duration) {
	slices.Sort(ds)
	ms := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))]) / 1e6 }
	b.ReportMetric(ms(0.5), name+"-p50-ms")
	b.ReportMetric(ms(0.99), name+"-p99-ms")
}
