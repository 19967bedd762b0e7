package testutil

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// recTB records Skip and Fatal calls instead of stopping the goroutine.
type recTB struct {
	testing.TB
	skipped, fatal string
}

func (r *recTB) Helper()                        {}
func (r *recTB) Skip(args ...any)               { r.skipped = fmt.Sprint(args...) }
func (r *recTB) Fatalf(format string, a ...any) { r.fatal = fmt.Sprintf(format, a...) }

func TestRequireSkipOrFail(t *testing.T) {
	probe := func(c string) (bool, error) {
		switch c {
		case "present":
			return true, nil
		case "missing":
			return true, errors.New("not here")
		}
		return false, nil
	}
	tests := []struct {
		name      string
		ci        bool
		caps      []string
		wantSkip  bool
		wantFatal string // substring; "" means no Fatal
	}{
		{name: "present", caps: []string{"present"}},
		{name: "present in CI", ci: true, caps: []string{"present"}},
		{name: "missing skips locally", caps: []string{"present", "missing"}, wantSkip: true},
		{name: "missing fails in CI", ci: true, caps: []string{"missing"}, wantFatal: "CI=true"},
		{name: "unknown always fails", caps: []string{"nosuch"}, wantFatal: "unknown capability"},
		{name: "unknown fails before missing skips", caps: []string{"missing", "nosuch"}, wantFatal: "unknown capability"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recTB{TB: t}
			require(r, tt.ci, tt.caps, probe)
			if got := r.skipped != ""; got != tt.wantSkip {
				t.Errorf("skipped = %q, want skip %t", r.skipped, tt.wantSkip)
			}
			if tt.wantFatal == "" && r.fatal != "" || !strings.Contains(r.fatal, tt.wantFatal) {
				t.Errorf("fatal = %q, want %q", r.fatal, tt.wantFatal)
			}
			if tt.wantSkip && !strings.Contains(r.skipped, "missing (not here)") {
				t.Errorf("skip message %q does not name the capability and reason", r.skipped)
			}
		})
	}
}

func TestCapabilitiesAllProbed(t *testing.T) {
	for _, c := range []string{CapRoot, CapNetNS, CapMountNS, CapPIDNS, CapSandbox, CapNFTables, CapTC, CapNetem,
		CapIFB, CapVeth, CapCgroup, CapCgroupV1, CapCgroupV2, CapSystemd, CapPostgres, CapQEMU, CapLinux, CapWindows} {
		if known, _ := probe(c); !known {
			t.Errorf("capability %q has no probe", c)
		}
	}
	// Probing is cached and read-only; log what this machine has for the record.
	for _, c := range Capabilities() {
		_, err := probe(c)
		t.Logf("%-9s %v", c, errOrOK(err))
	}
}

func errOrOK(err error) any {
	if err == nil {
		return "ok"
	}
	return err
}

func TestRunPattern(t *testing.T) {
	tests := map[string]string{
		"TestX":               "^TestX$",
		"TestX/sub":           "^TestX$/^sub$",
		"TestX/a_b#01":        "^TestX$/^a_b#01$",
		"TestX/x.y+(z)/[1]":   `^TestX$/^x\.y\+\(z\)$/^\[1\]$`,
		"TestSandbox/Residue": "^TestSandbox$/^Residue$",
	}
	for in, want := range tests {
		if got := runPattern(in); got != want {
			t.Errorf("runPattern(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInTarget(t *testing.T) {
	tests := []struct {
		name, target string
		want         bool
	}{
		{"TestX", "TestX", true},
		{"TestX/sub", "TestX", true},
		{"TestXY", "TestX", false},
		{"TestX", "TestX/sub", false},
	}
	for _, tt := range tests {
		if got := inTarget(tt.name, tt.target); got != tt.want {
			t.Errorf("inTarget(%q, %q) = %t", tt.name, tt.target, got)
		}
	}
}

func TestCanon(t *testing.T) {
	type inner struct{ N int }
	type counter struct {
		Name       string
		Statistics *inner
		Refcnt     int
		Data       []byte
		P          *inner
		M          map[string]int
		I          any
	}
	a := counter{Name: "x", Statistics: &inner{1}, Refcnt: 3, Data: []byte{1, 0xab}, P: &inner{7}, M: map[string]int{"b": 2, "a": 1}, I: &inner{9}}
	b := a
	b.Statistics, b.Refcnt, b.P, b.I = &inner{99}, 4, &inner{7}, &inner{9} // volatile fields and new pointers
	if canon(a) != canon(b) {
		t.Errorf("canon differs on volatile fields or pointer identity:\n%s\n%s", canon(a), canon(b))
	}
	want := "testutil.counter{Name=x Data=0x01ab P={N=7} M=map[a:1 b:2] I=*testutil.inner{N=9}}"
	if got := canon(a); got != want {
		t.Errorf("canon = %s\nwant    %s", got, want)
	}
}
