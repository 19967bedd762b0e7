//go:build linux

package netfault_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/internal/nstest"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/nft"
)

// TestBadInputChangesNothing sends every bad input through the host
// manager: each is a ParamError naming the parameter, the journal stays
// empty and the ruleset is untouched.
func TestBadInputChangesNothing(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	h := newHost(t, ns)
	m := openManager(t, h)
	before := ns.Ruleset(t)
	for _, tt := range badInput {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: kindID, Params: tt.params, Duration: bulwark.Duration(time.Minute)})
			var pe *fault.ParamError
			if !errors.As(err, &pe) || pe.Param != tt.param {
				t.Fatalf("Inject(%v) = %v, want a ParamError naming --%s", tt.params, err, tt.param)
			}
		})
	}
	t.Run("unresolvable host name", func(t *testing.T) {
		// .invalid never resolves (RFC 6761).
		_, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: kindID, Params: map[string]string{"destination": "db.invalid"}, Duration: bulwark.Duration(time.Minute)})
		var pe *fault.ParamError
		if !errors.As(err, &pe) || pe.Param != "destination" {
			t.Fatalf("Inject(db.invalid) = %v, want a ParamError naming --destination", err)
		}
	})
	if fs, _ := m.Faults(context.Background(), bulwark.FaultFilter{}); len(fs) != 0 {
		t.Errorf("journal holds %d faults after bad input", len(fs))
	}
	if after := ns.Ruleset(t); after != before {
		t.Errorf("ruleset changed:\n%s\nwant:\n%s", after, before)
	}
}

// TestPrepareChangesNothing runs Prepare alone: its probe of the kernel
// leaves the ruleset as it was.
func TestPrepareChangesNothing(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	h := newHost(t, ns)
	before := ns.Ruleset(t)
	k := netfault.Partition{}
	p, err := fault.Decode(k.Info(), map[string]string{"destination": "10.0.0.0/8,::1", "port": "80", "action": "reject"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := k.Prepare(context.Background(), h, fault.Request{ID: bulwark.NewID(), Params: p, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Resource, "nftables:inet bulwark_") {
		t.Errorf("resource %q", r.Resource)
	}
	if after := ns.Ruleset(t); after != before {
		t.Errorf("Prepare changed the ruleset:\n%s", after)
	}
}

func TestPortCut(t *testing.T) {
	nstest.Require(t)
	tests := []struct {
		name    string
		params  map[string]string
		refused bool
	}{
		{"egress drop", map[string]string{"destination": "127.0.0.1", "port": "8080", "protocol": "tcp", "direction": "egress"}, false},
		{"egress reject", map[string]string{"destination": "127.0.0.1", "port": "8080", "protocol": "tcp", "direction": "egress", "action": "reject"}, true},
		{"ingress drop", map[string]string{"destination": "127.0.0.1", "port": "8080", "protocol": "tcp", "direction": "ingress"}, false},
		{"ingress reject", map[string]string{"destination": "127.0.0.0/8", "port": "8080", "direction": "ingress", "action": "reject"}, true},
		{"both, all protocols, default destination", map[string]string{"port": "8080"}, false},
		{"port range", map[string]string{"destination": "127.0.0.1", "port": "8079-8080", "protocol": "tcp"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := nstest.New(t)
			ns.Listen(t, "127.0.0.1:8080")
			ns.Listen(t, "127.0.0.1:8081")
			h := newHost(t, ns)
			m := openManager(t, h)
			before := ns.Ruleset(t)

			f := inject(t, m, tt.params, time.Minute)
			t.Logf("evidence:\n%s", evidenceText(f))
			mustBeCut(t, ns, "127.0.0.1:8080", tt.refused)
			mustWork(t, ns, "127.0.0.1:8081")

			recoverFault(t, m, f.ID)
			if after := ns.Ruleset(t); after != before {
				t.Errorf("ruleset after recover:\n%s\nwant:\n%s", after, before)
			}
			mustWork(t, ns, "127.0.0.1:8080")
		})
	}
}

// TestIPv6 cuts a UDP flow to ::1 and leaves TCP on the same port alone (the
// network engine's "done when" for net.partition).
func TestIPv6(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	ns.Listen(t, "[::1]:9001")
	ns.ListenUDP(t, "[::1]:9001")
	ns.Listen(t, "[::1]:9002")
	h := newHost(t, ns)
	m := openManager(t, h)
	before := ns.Ruleset(t)

	if err := ns.DialUDP("[::1]:9001", 2*time.Second); err != nil {
		t.Fatalf("udp before the fault: %v", err)
	}
	f := inject(t, m, map[string]string{"destination": "::1", "port": "9001", "protocol": "udp"}, time.Minute)
	if err := ns.DialUDP("[::1]:9001", cutWait); err == nil {
		t.Error("udp to [::1]:9001 should be cut")
	}
	mustWork(t, ns, "[::1]:9001")
	g := inject(t, m, map[string]string{"destination": "::1", "port": "9002", "protocol": "tcp", "action": "reject"}, time.Minute)
	mustBeCut(t, ns, "[::1]:9002", true)
	mustWork(t, ns, "[::1]:9001")

	recoverFault(t, m, f.ID)
	recoverFault(t, m, g.ID)
	if err := ns.DialUDP("[::1]:9001", 2*time.Second); err != nil {
		t.Errorf("udp after recover: %v", err)
	}
	mustWork(t, ns, "[::1]:9002")
	if after := ns.Ruleset(t); after != before {
		t.Errorf("ruleset after recover:\n%s\nwant:\n%s", after, before)
	}
}

// TestManagementExcluded partitions everything, both ways, on a host joined
// to a peer by a veth pair: the configured management port and network keep
// working while the rest is cut.
func TestManagementExcluded(t *testing.T) {
	nstest.Require(t)
	tests := []struct {
		name       string
		management fault.Management
		peerWorks  []string // flows from the host to the peer that must work
		peerCut    []string
		hostWorks  []string // flows from the peer to the host that must work
		hostCut    []string
	}{
		{
			name:       "management port",
			management: fault.Management{TCPPorts: []uint16{2222}},
			peerWorks:  []string{"10.99.0.2:2222"}, peerCut: []string{"10.99.0.2:8080"},
			hostWorks: []string{"10.99.0.1:2222"}, hostCut: []string{"10.99.0.1:8080"},
		},
		{
			name:       "management network",
			management: fault.Management{Networks: []netip.Prefix{netip.MustParsePrefix("10.99.0.2/32")}},
			peerWorks:  []string{"10.99.0.2:2222", "10.99.0.2:8080"},
			hostWorks:  []string{"10.99.0.1:2222", "10.99.0.1:8080"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, peer := nstest.New(t), nstest.New(t)
			nstest.Veth(t, host, peer, "10.99.0.1/24", "10.99.0.2/24")
			for _, a := range []string{"10.99.0.1:2222", "10.99.0.1:8080", "127.0.0.1:8080"} {
				host.Listen(t, a)
			}
			for _, a := range []string{"10.99.0.2:2222", "10.99.0.2:8080"} {
				peer.Listen(t, a)
			}
			h := newHost(t, host)
			h.Management = tt.management
			m := openManager(t, h)
			f := inject(t, m, map[string]string{}, time.Minute)
			t.Logf("evidence:\n%s", evidenceText(f))
			for _, a := range tt.peerWorks {
				mustWork(t, host, a)
			}
			for _, a := range tt.peerCut {
				mustBeCut(t, host, a, false)
			}
			for _, a := range tt.hostWorks {
				mustWork(t, peer, a)
			}
			for _, a := range tt.hostCut {
				mustBeCut(t, peer, a, false)
			}
			mustBeCut(t, host, "127.0.0.1:8080", false) // everything else is cut, loopback too
			recoverFault(t, m, f.ID)
			mustWork(t, host, "127.0.0.1:8080")
			mustWork(t, peer, "10.99.0.1:8080")
		})
	}
}

// TestRejectBothWays rejects everything in both directions on a host joined
// to a peer: connections either way are refused, not left to time out (the
// kernel's own resets leave although their destination is cut).
func TestRejectBothWays(t *testing.T) {
	nstest.Require(t)
	for _, params := range []map[string]string{
		{"action": "reject"},
		{"action": "reject", "destination": "10.99.0.0/24"},
		{"action": "reject", "port": "8080"},
	} {
		host, peer := nstest.New(t), nstest.New(t)
		nstest.Veth(t, host, peer, "10.99.0.1/24", "10.99.0.2/24")
		host.Listen(t, "10.99.0.1:8080")
		peer.Listen(t, "10.99.0.2:8080")
		m := openManager(t, newHost(t, host))
		f := inject(t, m, params, time.Minute)
		mustBeCut(t, peer, "10.99.0.1:8080", true)
		mustBeCut(t, host, "10.99.0.2:8080", true)
		recoverFault(t, m, f.ID)
		mustWork(t, peer, "10.99.0.1:8080")
	}
}

// TestCompose runs two faults in one namespace: each cuts its own port, and
// recovering one leaves the other in place and without drift.
func TestCompose(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	ns.Listen(t, "127.0.0.1:8080")
	ns.Listen(t, "127.0.0.1:8081")
	ns.Listen(t, "127.0.0.1:8082")
	h := newHost(t, ns)
	m := openManager(t, h)
	before := ns.Ruleset(t)

	f1 := inject(t, m, map[string]string{"destination": "127.0.0.1", "port": "8080"}, time.Minute)
	f2 := inject(t, m, map[string]string{"destination": "127.0.0.1", "port": "8081", "action": "reject"}, time.Minute)
	mustBeCut(t, ns, "127.0.0.1:8080", false)
	mustBeCut(t, ns, "127.0.0.1:8081", true)
	mustWork(t, ns, "127.0.0.1:8082")

	recoverFault(t, m, f1.ID)
	mustWork(t, ns, "127.0.0.1:8080")
	mustBeCut(t, ns, "127.0.0.1:8081", true)
	r2, err := m.Receipt(context.Background(), f2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (netfault.Partition{}).Status(context.Background(), h, r2); err != nil {
		t.Errorf("the remaining fault drifted: %v", err)
	}
	recoverFault(t, m, f2.ID)
	mustWork(t, ns, "127.0.0.1:8081")
	if after := ns.Ruleset(t); after != before {
		t.Errorf("ruleset after recovering both:\n%s\nwant:\n%s", after, before)
	}
}

// TestKernelExpiry leaves a 1 s fault with no process to recover it: the
// kernel's element timeouts make the rules inert by themselves, and the
// next sweep deletes the table.
func TestKernelExpiry(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	ns.Listen(t, "127.0.0.1:8080")
	h := newHost(t, ns)
	before := ns.Ruleset(t)

	m := openManager(t, h)
	f := inject(t, m, map[string]string{"destination": "127.0.0.1", "port": "8080"}, time.Second)
	m.Close() // as if every bulwark process were gone
	mustBeCut(t, ns, "127.0.0.1:8080", false)

	deadline := f.ActiveAt.Add(3 * time.Second)
	for ns.Dial("127.0.0.1:8080", cutWait) != nil {
		if time.Now().After(deadline) {
			t.Fatal("flow still cut 3 s after a 1 s fault, with no recovery")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("flow back %v after activation, with no process recovering", time.Since(*f.ActiveAt).Round(time.Millisecond))
	if ns.Ruleset(t) == before {
		t.Fatal("the table is gone already; expected it to stay until the sweep")
	}

	m2 := openManager(t, h)
	r, _ := m2.Receipt(context.Background(), f.ID)
	ev, err := (netfault.Partition{}).Status(context.Background(), h, r)
	if err != nil {
		t.Errorf("status after kernel expiry reports drift: %v", err)
	}
	if !strings.Contains(ev[len(ev)-1].Detail, "expired in the kernel") {
		t.Errorf("status evidence does not mention the kernel expiry: %+v", ev[len(ev)-1])
	}
	swept, err := m2.Sweep(context.Background())
	if err != nil || len(swept) != 1 || swept[0].State != bulwark.StateRecovered {
		t.Fatalf("sweep: %v %+v", err, swept)
	}
	if after := ns.Ruleset(t); after != before {
		t.Errorf("ruleset after sweep:\n%s\nwant:\n%s", after, before)
	}
}

// TestStatusDrift removes and changes the fault's rules behind its back.
func TestStatusDrift(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	h := newHost(t, ns)
	m := openManager(t, h)
	k := netfault.Partition{}

	f := inject(t, m, map[string]string{"destination": "192.0.2.0/24"}, time.Minute)
	r, _ := m.Receipt(context.Background(), f.ID)
	if _, err := k.Status(context.Background(), h, r); err != nil {
		t.Fatalf("fresh fault drifted: %v", err)
	}
	table := "bulwark_" + strings.ReplaceAll(f.ID, "-", "")

	// Someone deletes one of the fault's rules.
	c, err := nftables.New(nftables.WithNetNSFd(ns.FD))
	if err != nil {
		t.Fatal(err)
	}
	tbl := &nftables.Table{Family: nftables.TableFamilyINet, Name: table}
	rules, err := c.GetRules(tbl, &nftables.Chain{Name: "egress", Table: tbl})
	if err != nil || len(rules) == 0 {
		t.Fatalf("rules: %v %d", err, len(rules))
	}
	if err := c.DelRule(rules[len(rules)-1]); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Status(context.Background(), h, r); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("status after a rule was deleted: %v, want drift", err)
	}

	// Someone deletes the whole table; recovery is still clean.
	nc, err := nft.Open(ns.Path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Delete(nftables.TableFamilyINet, table); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Status(context.Background(), h, r); err == nil {
		t.Error("status after the table was deleted reports no drift")
	}
	recoverFault(t, m, f.ID)
}

// TestRecoverAfterNamespaceGone recovers a fault whose namespace has died:
// its rules died with it, and the fault ends recovered, not stuck.
func TestRecoverAfterNamespaceGone(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	h := newHost(t, ns)
	m := openManager(t, h)
	f := inject(t, m, map[string]string{"destination": "192.0.2.1"}, time.Minute)
	ns.Close()
	recoverFault(t, m, f.ID)
}
