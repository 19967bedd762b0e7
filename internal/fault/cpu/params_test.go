package cpu_test

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/cpu"
)

// TestBadInput checks that every bad parameter comes back as a
// *fault.ParamError naming it, from Decode or from Prepare, and that
// Prepare creates nothing.
func TestBadInput(t *testing.T) {
	tooMany := strconv.Itoa(runtime.NumCPU() + 1)
	for _, tc := range []struct {
		name   string
		values map[string]string
		param  string
		want   string
	}{
		{"percent over 100", map[string]string{"percent": "500"}, "percent", "--percent: 500 is out of range"},
		{"percent zero", map[string]string{"percent": "0"}, "percent", "out of range"},
		{"percent negative", map[string]string{"percent": "-5"}, "percent", "out of range"},
		{"percent not a number", map[string]string{"percent": "lots"}, "percent", "not a percentage"},
		{"percent missing", map[string]string{"cores": "1"}, "percent", "is required"},
		{"cores zero", map[string]string{"percent": "50", "cores": "0"}, "cores", "--cores: 0 is out of range"},
		{"cores negative", map[string]string{"percent": "50", "cores": "-1"}, "cores", "out of range"},
		{"cores 9999", map[string]string{"percent": "50", "cores": "9999"}, "cores", "--cores: 9999 is more than the"},
		{"cores one more than the host", map[string]string{"percent": "50", "cores": tooMany}, "cores", "is more than the"},
		{"cores not a number", map[string]string{"percent": "50", "cores": "two"}, "cores", "not a whole number"},
		{"mode unknown", map[string]string{"percent": "50", "mode": "x"}, "mode", `--mode: "x" is not one of add, hold`},
		{"unknown parameter", map[string]string{"percent": "50", "pid": "7"}, "pid", "has no parameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := t.TempDir()
			err := decodeAndPrepare(t, state, tc.values)
			var pe *fault.ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want a *fault.ParamError", err, err)
			}
			if pe.Param != tc.param || !strings.Contains(pe.Error(), tc.want) {
				t.Errorf("error %q on --%s, want %q on --%s", pe.Error(), pe.Param, tc.want, tc.param)
			}
			assertEmptyDir(t, state)
		})
	}
}

// TestGoodInput checks the defaults and that Prepare changes nothing.
func TestGoodInput(t *testing.T) {
	state := t.TempDir()
	k, _ := fault.Lookup(cpu.ID)
	params, err := fault.Decode(k.Info(), map[string]string{"percent": "12.5%"})
	if err != nil {
		t.Fatal(err)
	}
	p := params.(*cpu.Params)
	if p.Percent != 12.5 || p.Cores != 1 || p.Mode != cpu.ModeAdd {
		t.Errorf("params %+v, want 12.5 %% on 1 core, add", p)
	}
	if got := fault.Encode(params); got["percent"] != "12.5" || got["cores"] != "1" || got["mode"] != "add" {
		t.Errorf("Encode = %v", got)
	}
	r, err := k.Prepare(context.Background(), fault.DefaultHost(state), request(params))
	if err != nil {
		t.Fatal(err)
	}
	if r.Resource != "" || r.Version != 1 {
		t.Errorf("receipt resource %q version %d, want none and 1", r.Resource, r.Version)
	}
	assertEmptyDir(t, state)
	hold, _ := fault.Decode(k.Info(), map[string]string{"percent": "50", "mode": "hold"})
	if r, err := k.Prepare(context.Background(), fault.DefaultHost(state), request(hold)); err != nil || r.Resource == "" {
		t.Errorf("hold receipt resource %q, %v: want one, so that two holds conflict", r.Resource, err)
	}
}

func decodeAndPrepare(t *testing.T, state string, values map[string]string) error {
	t.Helper()
	k, err := fault.Lookup(cpu.ID)
	if err != nil {
		t.Fatal(err)
	}
	params, err := fault.Decode(k.Info(), values)
	if err != nil {
		return err
	}
	_, err = k.Prepare(context.Background(), fault.DefaultHost(state), request(params))
	return err
}

func request(params any) fault.Request {
	return fault.Request{ID: "01test", Params: params, Duration: time.Minute, Deadline: time.Now().Add(time.Minute)}
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) > 0 {
		t.Errorf("Prepare left %v in %s", ents, dir)
	}
}
