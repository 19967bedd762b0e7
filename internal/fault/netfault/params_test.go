package netfault_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault"
)

// badInput is hostile or wrong input, each refused by Decode with a
// *fault.ParamError naming the parameter.
var badInput = []struct {
	name   string
	params map[string]string
	param  string
}{
	{"shell metacharacters", map[string]string{"destination": "127.0.0.1;rm -rf /"}, "destination"},
	{"command substitution", map[string]string{"destination": "$(reboot)"}, "destination"},
	{"backticks in a list", map[string]string{"destination": "10.0.0.1,`id`"}, "destination"},
	{"malformed host name", map[string]string{"destination": "db_1.example.com"}, "destination"},
	{"empty destination", map[string]string{"destination": ""}, "destination"},
	{"zone", map[string]string{"destination": "fe80::1%eth0"}, "destination"},
	{"prefix too long", map[string]string{"destination": "10.0.0.0/33"}, "destination"},
	{"newline", map[string]string{"destination": "10.0.0.1\nflush ruleset"}, "destination"},
	{"port zero", map[string]string{"port": "0"}, "port"},
	{"port too big", map[string]string{"port": "70000"}, "port"},
	{"port range backwards", map[string]string{"port": "9000-8000"}, "port"},
	{"port range open", map[string]string{"port": "8000-"}, "port"},
	{"port name", map[string]string{"port": "http"}, "port"},
	{"protocol icmp", map[string]string{"protocol": "icmp"}, "protocol"},
	{"protocol injection", map[string]string{"protocol": "tcp; drop"}, "protocol"},
	{"direction", map[string]string{"direction": "sideways"}, "direction"},
	{"action accept", map[string]string{"action": "accept"}, "action"},
	{"unknown parameter", map[string]string{"interface": "eth0"}, "interface"},
}

func TestDecodeBadInput(t *testing.T) {
	info := netfault.Partition{}.Info()
	for _, tt := range badInput {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fault.Decode(info, tt.params)
			var pe *fault.ParamError
			if !errors.As(err, &pe) || pe.Param != tt.param {
				t.Fatalf("Decode(%v) = %v, want a ParamError naming --%s", tt.params, err, tt.param)
			}
			if !strings.HasPrefix(err.Error(), "--"+tt.param+": ") {
				t.Errorf("message %q does not start with --%s", err, tt.param)
			}
		})
	}
}

func TestDecodeDefaultsAndCanonicalForm(t *testing.T) {
	info := netfault.Partition{}.Info()
	p, err := fault.Decode(info, map[string]string{"destination": "10.1.2.3/8, ::1", "port": "8000-8100"})
	if err != nil {
		t.Fatal(err)
	}
	got := fault.Encode(p)
	want := map[string]string{"destination": "10.0.0.0/8,::1", "port": "8000-8100", "protocol": "all", "direction": "both", "action": "drop"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

func TestDecodeTooManyDestinations(t *testing.T) {
	var b strings.Builder
	for i := range 1100 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256))
	}
	_, err := fault.Decode(netfault.Partition{}.Info(), map[string]string{"destination": b.String()})
	var pe *fault.ParamError
	if !errors.As(err, &pe) || pe.Param != "destination" {
		t.Fatalf("Decode of 1100 destinations = %v, want a ParamError naming --destination", err)
	}
}
