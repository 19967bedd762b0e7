//go:build linux

package netfault_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

func prepareOccupy(t *testing.T, h *fault.Host, params map[string]string) error {
	t.Helper()
	k, err := fault.Lookup(netfault.PortOccupyID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fault.Decode(k.Info(), params)
	if err != nil {
		return err
	}
	_, err = k.Prepare(context.Background(), h, fault.Request{ID: bulwark.NewID(), Params: p, Duration: time.Minute, Deadline: time.Now().Add(time.Hour)})
	return err
}

func TestPortOccupyBadInput(t *testing.T) {
	testutil.Require(t, "root", "netns")
	if !testutil.Sandbox(t) {
		return
	}
	h := faulttest.SandboxHost(t)
	l, err := net.Listen("tcp", "127.0.0.1:18090")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	u, err := net.ListenPacket("udp", "[::1]:18091")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	for _, c := range []struct {
		name   string
		params map[string]string
		param  string
		msg    string
	}{
		{"no port", map[string]string{}, "port", ""},
		{"port 0", map[string]string{"port": "0"}, "port", ""},
		{"reversed range", map[string]string{"port": "9000-8000"}, "port", ""},
		{"too many ports", map[string]string{"port": "10000-12000"}, "port", ""},
		{"bad protocol", map[string]string{"port": "18000", "protocol": "icmp"}, "protocol", ""},
		{"bad address", map[string]string{"port": "18000", "address": "localhost"}, "address", ""},
		{"address twice", map[string]string{"port": "18000", "address": "127.0.0.1,::ffff:127.0.0.1"}, "address", ""},
		{"ssh", map[string]string{"port": "20-30"}, "port", "management"},
		{"in use tcp", map[string]string{"port": "18085-18095"}, "port", "in use by pid"},
		{"in use tcp, same address", map[string]string{"port": "18090", "address": "127.0.0.1"}, "port", "in use"},
		{"in use udp v6", map[string]string{"port": "18091", "protocol": "udp"}, "port", "in use"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := prepareOccupy(t, h, c.params)
			var pe *fault.ParamError
			if !errors.As(err, &pe) || pe.Param != c.param || !strings.Contains(pe.Message, c.msg) {
				t.Fatalf("got %v, want a *fault.ParamError naming --%s saying %q", err, c.param, c.msg)
			}
		})
	}
	// Another address, or the other protocol, is free.
	for _, p := range []map[string]string{
		{"port": "18090", "address": "127.0.0.2"},
		{"port": "18090", "protocol": "udp"},
		{"port": "18091", "address": "0.0.0.0"},
	} {
		if err := prepareOccupy(t, h, p); err != nil {
			t.Errorf("%v: %v", p, err)
		}
	}
}

// bindErr returns the error of binding addr as an application would.
func bindErr(proto, addr string) error {
	if proto == "udp" {
		c, err := net.ListenPacket(proto, addr)
		if err == nil {
			c.Close()
		}
		return err
	}
	l, err := net.Listen(proto, addr)
	if err == nil {
		l.Close()
	}
	return err
}

func occupied(proto string, addrs ...string) func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
	return func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
		t.Helper()
		for _, a := range addrs {
			if err := bindErr(proto, a); !errors.Is(err, syscall.EADDRINUSE) {
				t.Errorf("bind %s %s during the fault: %v, want EADDRINUSE", proto, a, err)
			}
		}
		if !strings.Contains(evidenceText(f), "/proc/") {
			t.Errorf("no /proc socket evidence: %s", evidenceText(f))
		}
	}
}

func freed(proto string, addrs ...string) func(t *testing.T, h *fault.Host) {
	return func(t *testing.T, h *fault.Host) {
		t.Helper()
		for _, a := range addrs {
			if err := bindErr(proto, a); err != nil {
				t.Errorf("bind %s %s after recover: %v", proto, a, err)
			}
		}
	}
}

func TestPortOccupyContract(t *testing.T) {
	faulttest.Run(t, netfault.PortOccupyID,
		faulttest.Case{
			Name:   "tcp range, every address",
			Setup:  func(t *testing.T, h *fault.Host) map[string]string { return map[string]string{"port": "18080-18082"} },
			Effect: occupied("tcp", "127.0.0.1:18080", "[::1]:18081", "0.0.0.0:18082", "[::]:18080"),
			Gone:   freed("tcp", "127.0.0.1:18080", "[::]:18082"),
		},
		faulttest.Case{
			Name: "udp, one address",
			Setup: func(t *testing.T, h *fault.Host) map[string]string {
				return map[string]string{"port": "18083", "protocol": "udp", "address": "127.0.0.1"}
			},
			Effect: occupied("udp", "127.0.0.1:18083", "0.0.0.0:18083"),
			Gone:   freed("udp", "127.0.0.1:18083"),
		},
	)
}

// TestPortOccupyHelperExpires: the helper releases the ports at its
// deadline by itself, with no recover.
func TestPortOccupyHelperExpires(t *testing.T) {
	testutil.Require(t, "root", "netns")
	if !testutil.Sandbox(t) {
		return
	}
	h := faulttest.SandboxHost(t)
	k, _ := fault.Lookup(netfault.PortOccupyID)
	p, err := fault.Decode(k.Info(), map[string]string{"port": "18084", "address": "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := k.Prepare(ctx, h, fault.Request{ID: bulwark.NewID(), Params: p, Duration: time.Second, Deadline: time.Now().Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Apply(ctx, h, r); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Recover(ctx, h, r) })
	if err := bindErr("tcp", "127.0.0.1:18084"); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("bind during the fault: %v", err)
	}
	end := time.Now().Add(10 * time.Second)
	for bindErr("tcp", "127.0.0.1:18084") != nil {
		if time.Now().After(end) {
			t.Fatal("the helper still holds the port 9 s after its deadline")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The helper closes its sockets, reports, then exits.
	for {
		_, err := k.VerifyRecovered(ctx, h, r)
		if err == nil {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("after expiry: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
