//go:build linux

package netfault_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// prepareDNS decodes params and runs Prepare against a hosts file holding
// hosts, returning the error.
func prepareDNS(t *testing.T, h *fault.Host, params map[string]string) error {
	t.Helper()
	k, err := fault.Lookup(netfault.DNSID)
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

func TestDNSBadInput(t *testing.T) {
	h := fault.DefaultHost(t.TempDir())
	h.HostsFile = filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(h.HostsFile, []byte("127.0.0.1 localhost\n10.0.0.5 db.bank.test db # the database\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.ServerNames = []string{"Bulwark.Bank.Test."}
	own, _ := os.Hostname()
	for _, c := range []struct {
		name   string
		params map[string]string
		param  string
	}{
		{"no host", map[string]string{"address": "192.0.2.1"}, "host"},
		{"shell characters", map[string]string{"host": "a;rm -rf", "address": "192.0.2.1"}, "host"},
		{"space", map[string]string{"host": "a b", "address": "192.0.2.1"}, "host"},
		{"hash", map[string]string{"host": "a#b", "address": "192.0.2.1"}, "host"},
		{"leading hyphen", map[string]string{"host": "-a.test", "address": "192.0.2.1"}, "host"},
		{"empty label", map[string]string{"host": "a..test", "address": "192.0.2.1"}, "host"},
		{"long label", map[string]string{"host": strings.Repeat("a", 64) + ".test", "address": "192.0.2.1"}, "host"},
		{"an address", map[string]string{"host": "10.1.1.1", "address": "192.0.2.1"}, "host"},
		{"override without address", map[string]string{"host": "a.test"}, "address"},
		{"fail with address", map[string]string{"host": "a.test", "mode": "fail", "address": "192.0.2.1"}, "address"},
		{"bad address", map[string]string{"host": "a.test", "address": "192.0.2"}, "address"},
		{"zone", map[string]string{"host": "a.test", "address": "fe80::1%lo"}, "address"},
		{"bad mode", map[string]string{"host": "a.test", "mode": "nxdomain"}, "mode"},
		{"localhost", map[string]string{"host": "LOCALHOST", "address": "192.0.2.1"}, "host"},
		{"under localhost", map[string]string{"host": "x.localhost", "mode": "fail"}, "host"},
		{"server name", map[string]string{"host": "a.test,bulwark.bank.test", "address": "192.0.2.1"}, "host"},
		{"server short name", map[string]string{"host": "bulwark", "mode": "fail"}, "host"},
		{"own hostname", map[string]string{"host": own, "mode": "fail"}, "host"},
		{"already in the hosts file", map[string]string{"host": "DB", "address": "192.0.2.1"}, "host"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := prepareDNS(t, h, c.params)
			var pe *fault.ParamError
			if !errors.As(err, &pe) || pe.Param != c.param {
				t.Fatalf("got %v, want a *fault.ParamError naming --%s", err, c.param)
			}
		})
	}
	if err := prepareDNS(t, h, map[string]string{"host": "app.bank.test,App.Bank.Test.", "address": "192.0.2.1,2001:db8::1"}); err != nil {
		t.Fatalf("a good request: %v", err)
	}
}

// hostsHasNo fails t if the hosts file holds any bulwark block.
func hostsHasNo(t *testing.T, h *fault.Host) {
	t.Helper()
	b, err := os.ReadFile(h.HostsFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "# bulwark fault") {
		t.Errorf("hosts file still holds a bulwark block:\n%s", b)
	}
}

// lookedUp checks the inject's evidence says the Go resolver, in a fresh
// process, saw the effect.
func lookedUp(want string) func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
	return func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
		t.Helper()
		for _, e := range f.Evidence {
			if e.Check == "lookup" {
				if !e.OK || !strings.Contains(e.Detail, want) {
					t.Errorf("lookup evidence %+v, want it to show %q", e, want)
				}
				return
			}
		}
		t.Errorf("no lookup evidence: %s", evidenceText(f))
	}
}

func TestDNSContract(t *testing.T) {
	faulttest.Run(t, netfault.DNSID,
		faulttest.Case{
			Name: "override",
			Setup: func(t *testing.T, h *fault.Host) map[string]string {
				return map[string]string{"host": "db.bank.test,cache.bank.test", "address": "192.0.2.10,2001:db8::10"}
			},
			Effect: lookedUp("db.bank.test -> 192.0.2.10, 2001:db8::10"),
			Gone:   hostsHasNo,
		},
		faulttest.Case{
			Name: "fail",
			Setup: func(t *testing.T, h *fault.Host) map[string]string {
				// A file not ending in a newline must come back byte for byte.
				b, _ := os.ReadFile(h.HostsFile)
				if err := os.WriteFile(h.HostsFile, []byte(strings.TrimRight(string(b), "\n")), 0o644); err != nil {
					t.Fatal(err)
				}
				return map[string]string{"host": "db.bank.test", "mode": "fail"}
			},
			Effect: lookedUp("db.bank.test -> 0.0.0.0, ::"),
			Gone:   hostsHasNo,
		},
	)
}

// TestDNSCompareAndSwap: other edits survive recovery; a changed block is a
// conflict (stuck, file left alone) until a person removes it; a second
// fault on the same name is refused.
func TestDNSCompareAndSwap(t *testing.T) {
	testutil.Require(t, "root", "netns")
	if !testutil.Sandbox(t) {
		return
	}
	h := faulttest.SandboxHost(t)
	m := openManager(t, h)
	ctx := context.Background()
	spec := bulwark.FaultSpec{Kind: netfault.DNSID, Params: map[string]string{"host": "db.bank.test", "address": "192.0.2.10"}, Duration: bulwark.Duration(time.Minute)}
	orig, _ := os.ReadFile(h.HostsFile)

	f, err := m.Inject(ctx, spec)
	if err != nil || f.State != bulwark.StateActive {
		t.Fatalf("inject: %v %+v", err, f)
	}
	other := spec
	other.Params = map[string]string{"host": "x.test,db.bank.test", "mode": "fail"}
	if g, err := m.Inject(ctx, other); err == nil || !strings.Contains(err.Error(), f.ID) {
		t.Errorf("a second net.dns fault on db.bank.test: %v %+v, want a conflict naming %s", err, g, f.ID)
	}

	// Someone else adds a line: recovery keeps it.
	appendTo(t, h.HostsFile, "198.51.100.7 added.by.cm\n")
	recoverFault(t, m, f.ID)
	if got, _ := os.ReadFile(h.HostsFile); string(got) != string(orig)+"198.51.100.7 added.by.cm\n" {
		t.Errorf("after recover the hosts file is\n%s\nwant the original plus the other line", got)
	}

	// Someone edits the block: conflict, nothing overwritten.
	f, err = m.Inject(ctx, spec)
	if err != nil || f.State != bulwark.StateActive {
		t.Fatalf("inject: %v %+v", err, f)
	}
	b, _ := os.ReadFile(h.HostsFile)
	edited := strings.Replace(string(b), "192.0.2.10\tdb.bank.test", "192.0.2.99\tdb.bank.test", 1)
	if edited == string(b) {
		t.Fatalf("block line not found in\n%s", b)
	}
	writeInPlace(t, h.HostsFile, edited)
	k, _ := fault.Lookup(netfault.DNSID)
	r, err := m.Receipt(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.(fault.Statuser).Status(ctx, h, r); err == nil {
		t.Error("status of an edited block reports no drift")
	}
	out, _ := m.Recover(ctx, f.ID)
	if len(out) != 1 || out[0].State != bulwark.StateStuck || !strings.Contains(out[0].Error, "conflict") {
		t.Fatalf("recover of an edited block: %+v, want stuck with a conflict", out)
	}
	if got, _ := os.ReadFile(h.HostsFile); string(got) != edited {
		t.Errorf("a conflicting recover changed the file:\n%s", got)
	}
	// The person removes the block; the retry ends the fault.
	writeInPlace(t, h.HostsFile, string(orig))
	if out, err := m.Recover(ctx, f.ID); err != nil || out[0].State != bulwark.StateRecovered {
		t.Fatalf("recover after the block was removed by hand: %v %+v", err, out)
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// writeInPlace rewrites a bind-mounted file without renaming over it.
func writeInPlace(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
