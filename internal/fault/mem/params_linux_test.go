package mem_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/mem"
)

// fakeProc writes a meminfo with 8 GiB total and 4 GiB available.
func fakeProc(t *testing.T) *fault.Host {
	root := t.TempDir()
	mi := "MemTotal:        8388608 kB\nMemFree:         1000 kB\nMemAvailable:    4194304 kB\n"
	if err := os.WriteFile(filepath.Join(root, "meminfo"), []byte(mi), 0o644); err != nil {
		t.Fatal(err)
	}
	h := fault.DefaultHost(t.TempDir())
	h.ProcRoot = root
	return h
}

func TestBadInput(t *testing.T) {
	k, err := fault.Lookup(mem.FillID)
	if err != nil {
		t.Fatal(err)
	}
	h := fakeProc(t)
	for _, tc := range []struct {
		name   string
		values map[string]string
		param  string
	}{
		{"nothing", map[string]string{}, "size"},
		{"both", map[string]string{"size": "1MiB", "percent": "5"}, "percent"},
		{"bad size", map[string]string{"size": "lots"}, "size"},
		{"percent over 100", map[string]string{"percent": "101"}, "percent"},
		{"bad of", map[string]string{"percent": "5", "of": "free"}, "of"},
		{"oom adj", map[string]string{"size": "1MiB", "oom-score-adj": "1001"}, "oom-score-adj"},
		{"negative rate", map[string]string{"size": "1MiB", "rate": "-1MiB"}, "rate"},
		// 4 GiB available, default reserve max(5 % of 8 GiB, 256 MiB) = 409.6 MiB.
		{"over the reserve", map[string]string{"size": "3800MiB"}, "size"},
		{"percent over the reserve", map[string]string{"percent": "50", "of": "total"}, "percent"},
		{"explicit reserve", map[string]string{"size": "1GiB", "reserve": "3.5GiB"}, "size"},
		{"percent of available over the reserve", map[string]string{"percent": "95", "of": "available"}, "percent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := fault.Decode(k.Info(), tc.values)
			if err == nil {
				_, err = k.Prepare(context.Background(), h, fault.Request{ID: "F1", Params: p, Deadline: time.Now().Add(time.Minute)})
			}
			var pe *fault.ParamError
			if !errors.As(err, &pe) || pe.Param != tc.param {
				t.Fatalf("err = %v, want a ParamError for --%s", err, tc.param)
			}
		})
	}
	for _, ok := range []map[string]string{
		{"size": "1GiB"},
		{"percent": "40", "of": "available"},
		{"percent": "10"},
		{"size": "3GiB", "reserve": "512MiB", "rate": "10MiB/s"},
	} {
		p, err := fault.Decode(k.Info(), ok)
		if err != nil {
			t.Fatalf("%v: %v", ok, err)
		}
		if _, err := k.Prepare(context.Background(), h, fault.Request{ID: "F1", Params: p, Deadline: time.Now().Add(time.Minute)}); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
}
