package fault_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

type sampleParams struct {
	Percent bulwark.Percent   `param:"percent,required" help:"load" unit:"%"`
	Cores   int               `param:"cores" default:"1" min:"1" max:"64"`
	Mode    string            `param:"mode" default:"add" enum:"add,hold"`
	Dest    []bulwark.CIDR    `param:"destination"`
	Size    bulwark.ByteSize  `param:"size"`
	All     bool              `param:"all-matching"`
	Port    bulwark.PortRange `param:"port,target"`
}

func (p *sampleParams) Validate() error {
	if p.All && p.Mode == "hold" {
		return &fault.ParamError{Param: "all-matching", Message: "cannot be used with --mode hold"}
	}
	return nil
}

var sampleInfo = fault.KindInfo{ID: "test.sample", NewParams: func() any { return new(sampleParams) }}

func TestDecode(t *testing.T) {
	p, err := fault.Decode(sampleInfo, map[string]string{"percent": "50", "destination": "10.0.0.0/8, ::1", "size": "1MiB", "all-matching": "true", "port": "80-81"})
	if err != nil {
		t.Fatal(err)
	}
	sp := p.(*sampleParams)
	if sp.Percent != 50 || sp.Cores != 1 || sp.Mode != "add" || len(sp.Dest) != 2 || sp.Size != 1<<20 || !sp.All || sp.Port.Last != 81 {
		t.Fatalf("decoded %+v", sp)
	}
	enc := fault.Encode(p)
	if enc["destination"] != "10.0.0.0/8,::1" || enc["size"] != "1MiB" || enc["cores"] != "1" {
		t.Fatalf("encoded %v", enc)
	}
	again, err := fault.Decode(sampleInfo, enc)
	if err != nil || again.(*sampleParams).Size != sp.Size {
		t.Fatalf("round trip: %v", err)
	}
}

func TestDecodeErrorsNameTheParameter(t *testing.T) {
	tests := []struct {
		in   map[string]string
		want string
	}{
		{map[string]string{}, "--percent: is required"},
		{map[string]string{"percent": "500"}, "--percent: 500 is out of range (0 to 100)"},
		{map[string]string{"percent": "50", "cores": "0"}, "--cores: 0 is out of range (1 to 64)"},
		{map[string]string{"percent": "50", "cores": "two"}, "--cores"},
		{map[string]string{"percent": "50", "mode": "x"}, `--mode: "x" is not one of add, hold`},
		{map[string]string{"percent": "50", "destination": "1.2.3.4;reboot"}, "--destination"},
		{map[string]string{"percent": "50", "nope": "1"}, "--nope: test.sample has no parameter"},
		{map[string]string{"percent": "50", "mode": "hold", "all-matching": "true"}, "--all-matching: cannot be used"},
	}
	for _, tt := range tests {
		_, err := fault.Decode(sampleInfo, tt.in)
		var pe *fault.ParamError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Decode(%v) = %v, want a ParamError containing %q", tt.in, err, tt.want)
		}
	}
}

func TestSchema(t *testing.T) {
	s, err := fault.SchemaOf(new(sampleParams))
	if err != nil {
		t.Fatal(err)
	}
	if s[0].Name != "percent" || !s[0].Required || s[0].Type != "percent" || s[1].Type != "int" || *s[1].Max != 64 ||
		s[3].Type != "list of cidr" || !s[6].Target {
		t.Fatalf("schema %+v", s)
	}
	type bad struct {
		X map[string]int `param:"x"`
	}
	if _, err := fault.SchemaOf(new(bad)); err == nil {
		t.Fatal("unsupported type accepted")
	}
}

func TestRegisterPanicsOnMisuse(t *testing.T) {
	for name, info := range map[string]fault.KindInfo{
		"bad id":     {ID: "NoDot", ReceiptVersion: 1, NewParams: func() any { return new(sampleParams) }},
		"nil params": {ID: "test.nil", ReceiptVersion: 1},
		"no version": {ID: "test.nover", NewParams: func() any { return new(sampleParams) }},
		"duplicate":  {ID: "test.dup", ReceiptVersion: 1, NewParams: func() any { return new(sampleParams) }},
	} {
		t.Run(name, func(t *testing.T) {
			if name == "duplicate" {
				fault.Register(infoKind{info: info})
			}
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			fault.Register(infoKind{info: info})
		})
	}
	if _, err := fault.Lookup("test.none"); bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Fatalf("lookup unknown: %v", err)
	}
	if ids := fault.IDs("test"); len(ids) != 1 || ids[0] != "test.dup" {
		t.Fatalf("IDs(test) = %v", ids)
	}
}

// infoKind is a kind with only an Info: enough for the registry.
type infoKind struct {
	fault.Kind
	info fault.KindInfo
}

func (k infoKind) Info() fault.KindInfo { return k.info }

func TestConfinePath(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	in := filepath.Join(root, "data.csv")
	os.WriteFile(in, []byte("x"), 0o600)
	os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o600)
	os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "link"))
	h := &fault.Host{FileRoots: []string{root}}
	if got, err := h.ConfinePath("path", in); err != nil || filepath.Base(got) != "data.csv" {
		t.Fatalf("inside: %q %v", got, err)
	}
	for _, p := range []string{"/etc/passwd", filepath.Join(root, "link"), filepath.Join(root, "..", filepath.Base(outside), "secret"), "relative", root} {
		if _, err := h.ConfinePath("path", p); err == nil {
			t.Errorf("ConfinePath(%q) accepted", p)
		}
	}
}

func TestKernelThreadsAndPID1AreNeverTargets(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	h := fault.DefaultHost(t.TempDir())
	for _, pid := range []int{0, 1, os.Getpid()} {
		if _, _, err := h.CheckTarget("pid", pid); err == nil {
			t.Errorf("pid %d accepted as a target", pid)
		}
	}
	if st, err := h.ReadProcStat(2); err == nil && st.Comm == "kthreadd" {
		if !st.KernelThread() {
			t.Error("kthreadd not recognised as a kernel thread")
		}
		if _, _, err := h.CheckTarget("pid", 2); err == nil {
			t.Error("kthreadd accepted as a target")
		}
	}
}

func TestAliases(t *testing.T) {
	type aliased struct {
		Target string `param:"target,required,target" alias:"address"`
	}
	info := fault.KindInfo{ID: "test.alias", NewParams: func() any { return new(aliased) }}
	p, err := fault.Decode(info, map[string]string{"address": "10.0.0.1:80"})
	if err != nil || p.(*aliased).Target != "10.0.0.1:80" {
		t.Fatalf("alias: %v %+v", err, p)
	}
	if _, err := fault.Decode(info, map[string]string{"address": "a:1", "target": "b:2"}); err == nil {
		t.Fatal("a parameter under two names accepted")
	}
}

// EmbeddedFlow is a group of parameters shared by embedding.
type EmbeddedFlow struct {
	Port  int    `param:"port" min:"1" max:"65535" help:"a port"`
	Proto string `param:"protocol" default:"tcp" enum:"tcp,udp" help:"a protocol"`
}

type withEmbedded struct {
	Rate int `param:"rate,required" help:"a rate"`
	EmbeddedFlow
}

func TestSchemaFollowsEmbeddedStructs(t *testing.T) {
	schema, err := fault.SchemaOf(&withEmbedded{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range schema {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "rate,port,protocol" {
		t.Fatalf("params %v", names)
	}
	info := fault.KindInfo{ID: "test.embedded", NewParams: func() any { return &withEmbedded{} }}
	v, err := fault.Decode(info, map[string]string{"rate": "5", "port": "9000"})
	if err != nil {
		t.Fatal(err)
	}
	got := v.(*withEmbedded)
	if got.Rate != 5 || got.Port != 9000 || got.Proto != "tcp" {
		t.Fatalf("decoded %+v", got)
	}
	if _, err := fault.Decode(info, map[string]string{"rate": "5", "port": "0"}); err == nil {
		t.Fatal("an embedded field's range check did not apply")
	}
	if enc := fault.Encode(got); enc["port"] != "9000" || enc["protocol"] != "tcp" {
		t.Fatalf("encoded %v", enc)
	}
	type twice struct {
		Port int `param:"port" help:"again"`
		EmbeddedFlow
	}
	if _, err := fault.SchemaOf(&twice{}); err == nil {
		t.Fatal("a param declared twice was accepted")
	}
}
