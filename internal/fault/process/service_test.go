//go:build linux

package process_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/process"
)

func TestServiceBadInput(t *testing.T) {
	k, err := fault.Lookup("service.stop")
	if err != nil {
		t.Fatal(err)
	}
	h := fault.DefaultHost(t.TempDir())
	h.DenyProcesses = append(h.DenyProcesses, "trade-gateway")
	cases := []struct {
		name, unit, timeout, msg string
		param                    string
	}{
		{"empty", "", "", "not a service unit name", "unit"},
		{"path", "/etc/systemd/system/x.service", "", "not a service unit name", "unit"},
		{"dot-dot", "../x", "", "not a service unit name", "unit"},
		{"shell", "x;reboot", "", "not a service unit name", "unit"},
		{"space", "x y", "", "not a service unit name", "unit"},
		{"dollar", "$(id)", "", "not a service unit name", "unit"},
		{"socket", "x.socket", "", "services only", "unit"},
		{"target", "multi-user.target", "", "services only", "unit"},
		{"template", "getty@.service", "", "template", "unit"},
		{"too long", strings.Repeat("a", 250), "", "longer than 255", "unit"},
		{"sshd", "sshd", "", "deny-list", "unit"},
		{"ssh", "ssh.service", "", "deny-list", "unit"},
		{"journald", "systemd-journald.service", "", "deny-list", "unit"},
		{"dbus", "dbus", "", "deny-list", "unit"},
		{"bulwark", "bulwark-agent.service", "", "deny-list", "unit"},
		{"bulwark sweep", "bulwark-sweep-x.service", "", "deny-list", "unit"},
		{"host deny-list", "trade-gateway", "", "deny-list", "unit"},
		{"host deny-list instance", "node_exporter@a.service", "", "deny-list", "unit"},
		{"timeout zero", "app", "0s", "out of range", "timeout"},
		{"timeout too long", "app", "1h", "out of range", "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			values := map[string]string{"unit": tc.unit}
			if tc.timeout != "" {
				values["timeout"] = tc.timeout
			}
			params, err := fault.Decode(k.Info(), values)
			if err == nil {
				_, err = k.Prepare(context.Background(), h, fault.Request{ID: "t", Params: params, Duration: time.Minute})
			}
			var pe *fault.ParamError
			if !errors.As(err, &pe) || pe.Param != tc.param || !strings.Contains(pe.Message, tc.msg) {
				t.Fatalf("err = %v, want --%s: …%s…", err, tc.param, tc.msg)
			}
		})
	}
}

func TestServiceUnitNames(t *testing.T) {
	k, _ := fault.Lookup("service.stop")
	for in, want := range map[string]string{"nginx": "nginx.service", "nginx.service": "nginx.service", "app@blue": "app@blue.service", `sys-x\x2dy.service`: `sys-x\x2dy.service`} {
		p, err := fault.Decode(k.Info(), map[string]string{"unit": in})
		if err != nil {
			t.Fatalf("unit %q: %v", in, err)
		}
		if v := p.(*process.ServiceParams).Unit; v != want {
			t.Errorf("unit %q → %q, want %q", in, v, want)
		}
	}
}

// TestServiceUnavailableWithoutSystemd checks the reason given on hosts
// whose PID 1 is not systemd (the machines this was written on).
func TestServiceUnavailableWithoutSystemd(t *testing.T) {
	if st, err := os.Stat("/run/systemd/system"); err == nil && st.IsDir() {
		t.Skip("systemd is PID 1 here")
	}
	k, _ := fault.Lookup("service.stop")
	err := k.(fault.Availability).Available(context.Background(), fault.DefaultHost(t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "needs systemd as PID 1") || !strings.Contains(err.Error(), "PID 1 here is") {
		t.Fatalf("available: %v", err)
	}
	t.Log(err)
}
