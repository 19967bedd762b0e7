package mem_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/fault/mem"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

func realHost(t *testing.T) *fault.Host {
	t.Helper()
	h := fault.DefaultHost(t.TempDir())
	h.Exe = "/proc/self/exe"
	return h
}

func openManager(t *testing.T, h *fault.Host) *hostmgr.Manager {
	t.Helper()
	m, err := hostmgr.Open(context.Background(), hostmgr.Config{StateDir: h.StateDir, Host: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = m.RecoverAll(context.Background())
		_ = m.Close()
	})
	return m
}

// helperProcs lists the live mem-fill helpers of fault id ("" for any).
func helperProcs(t *testing.T, h *fault.Host, id string) []fault.Proc {
	t.Helper()
	ents, err := os.ReadDir(h.ProcRoot)
	if err != nil {
		t.Fatal(err)
	}
	var out []fault.Proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(h.ProcRoot, e.Name(), "cmdline"))
		if !strings.Contains(string(b), "\x00helper\x00mem-fill\x00--fault\x00"+id) {
			continue
		}
		if p, st, err := h.Identify(pid); err == nil && st.State != 'Z' {
			out = append(out, p)
		}
	}
	return out
}

func kb(t *testing.T, h *fault.Host, pid int, field string) int64 {
	t.Helper()
	return kbB(t, h, pid, field)
}

func kbB(t testing.TB, h *fault.Host, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h.ProcRoot, strconv.Itoa(pid), "status"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	t.Fatalf("no %s in status of %d", field, pid)
	return 0
}

// TestFillEffect fills 128 MiB through the manager and checks, from
// /proc/PID/status, that the helper holds that much anonymous memory, that
// its oom_score_adj is set, and that everything goes on recover.
func TestFillEffect(t *testing.T) {
	testutil.Require(t, testutil.CapRoot)
	h := realHost(t)
	m := openManager(t, h)
	const size = 128 << 20
	for _, params := range []map[string]string{
		{"size": "128MiB"},
		{"size": "128MiB", "rate": "256MiB/s", "oom-score-adj": "500", "mlock": "true"},
	} {
		f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: mem.FillID, Params: params, Duration: bulwark.Duration(30 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		if f.State != bulwark.StateActive {
			t.Fatalf("fault %+v, want active", f)
		}
		for _, e := range f.Evidence {
			t.Logf("evidence: %s: %s", e.Check, e.Detail)
		}
		ps := helperProcs(t, h, f.ID)
		if len(ps) != 1 {
			t.Fatalf("%d helpers, want 1", len(ps))
		}
		anon := kb(t, h, ps[0].PID, "RssAnon")
		if anon < size*98/100 || anon > size*102/100+16<<20 { // + the Go runtime's own heap
			t.Errorf("helper RssAnon %d, want %d (+ runtime)", anon, size)
		}
		adj, _ := os.ReadFile(filepath.Join(h.ProcRoot, strconv.Itoa(ps[0].PID), "oom_score_adj"))
		want := params["oom-score-adj"]
		if want == "" {
			want = "1000"
		}
		if strings.TrimSpace(string(adj)) != want {
			t.Errorf("oom_score_adj %q, want %s", adj, want)
		}
		if params["mlock"] == "true" {
			// Verify accepts the level within 2 %; a ramped fill finishes
			// its last pages just after, so wait (bounded) for all of them.
			locked := kb(t, h, ps[0].PID, "VmLck")
			for end := time.Now().Add(10 * time.Second); locked < size && time.Now().Before(end); {
				time.Sleep(50 * time.Millisecond)
				locked = kb(t, h, ps[0].PID, "VmLck")
			}
			if locked < size {
				t.Errorf("VmLck %d, want %d", locked, size)
			}
		}
		if out, err := m.Recover(context.Background(), f.ID); err != nil || out[0].State != bulwark.StateRecovered {
			t.Fatalf("recover: %v %+v", err, out)
		}
		if ps := helperProcs(t, h, f.ID); len(ps) != 0 {
			t.Fatalf("helpers left: %v", ps)
		}
	}
}

// TestHelperKilled: the OOM killer (here SIGKILL) takes the helper; Status
// says so, and Recover and VerifyRecovered still succeed.
func TestHelperKilled(t *testing.T) {
	testutil.Require(t, testutil.CapRoot)
	h := realHost(t)
	k, _ := fault.Lookup(mem.FillID)
	p, err := fault.Decode(k.Info(), map[string]string{"size": "32MiB"})
	if err != nil {
		t.Fatal(err)
	}
	id := bulwark.NewID()
	r, err := k.Prepare(context.Background(), h, fault.Request{ID: id, Params: p, Deadline: time.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Recover(context.Background(), h, r) })
	if err := k.Apply(context.Background(), h, r); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Verify(context.Background(), h, r); err != nil {
		t.Fatal(err)
	}
	ps := helperProcs(t, h, id)
	if len(ps) != 1 {
		t.Fatalf("%d helpers", len(ps))
	}
	if err := h.Signal(ps[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(5 * time.Second); len(helperProcs(t, h, id)) > 0 && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := k.(fault.Statuser).Status(context.Background(), h, r); err == nil {
		t.Error("Status of a killed helper is ok")
	}
	for range 2 {
		if err := k.Recover(context.Background(), h, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := k.VerifyRecovered(context.Background(), h, r); err != nil {
		t.Fatal(err)
	}
}

func TestContract(t *testing.T) {
	gone := func(t *testing.T, h *fault.Host) {
		if ps := helperProcs(t, h, ""); len(ps) > 0 {
			t.Errorf("mem-fill helpers still run: %v", ps)
		}
	}
	faulttest.Run(t, mem.FillID,
		faulttest.Case{
			Name:  "size",
			Setup: func(t *testing.T, h *fault.Host) map[string]string { return map[string]string{"size": "64MiB"} },
			Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
				ps := helperProcs(t, h, f.ID)
				if len(ps) != 1 {
					t.Fatalf("%d helpers, want 1", len(ps))
				}
				if anon := kb(t, h, ps[0].PID, "RssAnon"); anon < 63<<20 {
					t.Errorf("helper RssAnon %d, want 64 MiB", anon)
				}
			},
			Gone: gone,
		},
		faulttest.Case{
			Name: "ramp",
			Setup: func(t *testing.T, h *fault.Host) map[string]string {
				return map[string]string{"size": "32MiB", "rate": "64MiB/s"}
			},
			Gone: gone,
		},
	)
}
