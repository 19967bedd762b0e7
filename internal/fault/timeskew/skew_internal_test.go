package timeskew

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
)

// TestMain swaps the kernel's clock for a fake before any test runs: no
// test in this package may step this machine's CLOCK_REALTIME, which no
// namespace contains.
func TestMain(m *testing.M) {
	hostClock = &fakeClock{}
	os.Exit(m.Run())
}

// fakeClock is a wall clock on a boot-time line: real = epoch + boot + set.
type fakeClock struct {
	mu    sync.Mutex
	boot  int64
	set   time.Duration // every step so far
	steps []time.Duration
}

var epoch = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC).UnixNano()

func fake(t *testing.T) *fakeClock {
	t.Helper()
	c := &fakeClock{boot: int64(1000 * time.Second)}
	old := hostClock
	hostClock = c
	t.Cleanup(func() { hostClock = old })
	return c
}

func (c *fakeClock) read() (sample, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.boot += int64(time.Millisecond) // every reading takes a little time
	return sample{Real: epoch + c.boot + int64(c.set), Boot: c.boot, Spread: time.Microsecond}, nil
}

func (c *fakeClock) step(d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set += d
	c.steps = append(c.steps, d)
	return nil
}

// pass lets boot time (and so wall time) run on.
func (c *fakeClock) pass(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.boot += int64(d)
}

func (c *fakeClock) skew() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.set
}

// host returns a host with an empty proc root (no time daemons) and a
// temporary state directory.
func host(t *testing.T) *fault.Host {
	t.Helper()
	h := fault.DefaultHost(t.TempDir())
	h.ProcRoot = t.TempDir()
	return h
}

func manager(t *testing.T, h *fault.Host) *hostmgr.Manager {
	t.Helper()
	m, err := hostmgr.Open(context.Background(), hostmgr.Config{StateDir: h.StateDir, Host: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestSkewAndRestore(t *testing.T) {
	for _, off := range []string{"90s", "-5m", "+1h30m", "-1.5s"} {
		t.Run(off, func(t *testing.T) {
			c := fake(t)
			h := host(t)
			m := manager(t, h)
			f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: "time.skew", Params: map[string]string{"offset": off, "host-wide": "true"}, Duration: bulwark.Duration(time.Minute)})
			if err != nil || f.State != bulwark.StateActive {
				t.Fatalf("inject: %v %+v", err, f)
			}
			want, _ := time.ParseDuration(strings.TrimPrefix(off, "+"))
			if got := c.skew(); got != want {
				t.Fatalf("clock stepped by %v in all, want %v (steps %v)", got, want, c.steps)
			}
			r, err := m.Receipt(context.Background(), f.ID)
			if err != nil {
				t.Fatal(err)
			}
			k := Kind{}
			c.pass(42 * time.Second) // the fault runs
			if _, err := k.Status(context.Background(), h, r); err != nil {
				t.Fatalf("status: %v", err)
			}
			before, _ := c.read()
			if out, err := m.Recover(context.Background(), f.ID); err != nil || out[0].State != bulwark.StateRecovered {
				t.Fatalf("recover: %v %+v", err, out)
			}
			if got := c.skew(); got != 0 {
				t.Fatalf("clock stands %v off after recover, want 0", got)
			}
			// Restore kept the 42 s that passed: wall = anchored wall + elapsed boot.
			d, _ := decode(r)
			after, _ := c.read()
			if exp := d.Anchor.Real + (after.Boot - d.Anchor.Boot); after.Real != exp {
				t.Fatalf("wall after recover %d, want anchored wall + elapsed boot %d", after.Real, exp)
			}
			if after.Real < before.Real-int64(want) {
				t.Fatalf("recover lost time: %d < %d", after.Real, before.Real-int64(want))
			}
			n := len(c.steps)
			if err := k.Recover(context.Background(), h, r); err != nil {
				t.Fatal(err)
			}
			if len(c.steps) != n {
				t.Errorf("a second recover stepped the clock again: %v", c.steps)
			}
			if _, err := k.VerifyRecovered(context.Background(), h, r); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestDrift: someone else moves the clock during the fault; Status says
// so, and Recover still puts the clock back on the anchored line.
func TestDrift(t *testing.T) {
	c := fake(t)
	h := host(t)
	m := manager(t, h)
	f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: "time.skew", Params: map[string]string{"offset": "10m", "host-wide": "true"}, Duration: bulwark.Duration(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := m.Receipt(context.Background(), f.ID)
	_ = c.step(-10 * time.Minute) // an NTP daemon steps it back
	if _, err := (Kind{}).Status(context.Background(), h, r); err == nil || !strings.Contains(err.Error(), "moved by") {
		t.Fatalf("status after someone stepped the clock: %v", err)
	}
	_ = c.step(3 * time.Second)
	if err := (Kind{}).Recover(context.Background(), h, r); err != nil {
		t.Fatal(err)
	}
	if got := c.skew(); got != 0 {
		t.Fatalf("clock %v off after recover", got)
	}
}

// TestRecoverFromAnotherProcess: the restore needs nothing but the receipt,
// even after the apply's process is gone and the clock ran on.
func TestRecoverFromAnotherProcess(t *testing.T) {
	c := fake(t)
	h := host(t)
	m := manager(t, h)
	f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: "time.skew", Params: map[string]string{"offset": "-30s", "host-wide": "true"}, Duration: bulwark.Duration(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	c.pass(time.Hour)
	m2 := manager(t, h)
	if out, err := m2.Recover(context.Background(), f.ID); err != nil || out[0].State != bulwark.StateRecovered {
		t.Fatalf("recover in a new manager: %v %+v", err, out)
	}
	if got := c.skew(); got != 0 {
		t.Fatalf("clock %v off", got)
	}
}

func TestMaths(t *testing.T) {
	anchor := sample{Real: 1_700_000_000e9, Boot: 500e9}
	tests := []struct {
		name       string
		now        sample
		offset     time.Duration
		wantShift  time.Duration
		wantStep   time.Duration
		wantTarget int64
	}{
		{"apply, no time passed", anchor, time.Minute, 0, time.Minute, anchor.Real + 60e9},
		{"apply after 5 s", sample{Real: anchor.Real + 5e9, Boot: anchor.Boot + 5e9}, time.Minute, 0, time.Minute, anchor.Real + 65e9},
		{"recover a +60s skew after 30 s", sample{Real: anchor.Real + 90e9, Boot: anchor.Boot + 30e9}, 0, time.Minute, -time.Minute, anchor.Real + 30e9},
		{"recover a -2h skew after 1 s", sample{Real: anchor.Real - 7199e9, Boot: anchor.Boot + 1e9}, 0, -2 * time.Hour, 2 * time.Hour, anchor.Real + 1e9},
		{"already recovered", sample{Real: anchor.Real + 7e9, Boot: anchor.Boot + 7e9}, 0, 0, 0, anchor.Real + 7e9},
		{"re-apply after a partial step", sample{Real: anchor.Real + 40e9, Boot: anchor.Boot + 10e9}, time.Minute, 30 * time.Second, 30 * time.Second, anchor.Real + 70e9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shift(anchor, tt.now); got != tt.wantShift {
				t.Errorf("shift = %v, want %v", got, tt.wantShift)
			}
			if got := stepFor(anchor, tt.now, tt.offset); got != tt.wantStep {
				t.Errorf("stepFor = %v, want %v", got, tt.wantStep)
			}
			if got := target(anchor, tt.now, tt.offset).UnixNano(); got != tt.wantTarget {
				t.Errorf("target = %d, want %d", got, tt.wantTarget)
			}
			if after := tt.now.Real + int64(stepFor(anchor, tt.now, tt.offset)); after != tt.wantTarget {
				t.Errorf("clock after the step %d, want the target %d", after, tt.wantTarget)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	fake(t)
	h := host(t)
	m := manager(t, h)
	for _, tt := range []struct {
		name   string
		params map[string]string
		param  string
	}{
		{"no host-wide", map[string]string{"offset": "90s"}, "host-wide"},
		{"host-wide false", map[string]string{"offset": "90s", "host-wide": "false"}, "host-wide"},
		{"no offset", map[string]string{"host-wide": "true"}, "offset"},
		{"zero", map[string]string{"offset": "0s", "host-wide": "true"}, "offset"},
		{"not a duration", map[string]string{"offset": "soon", "host-wide": "true"}, "offset"},
		{"too far", map[string]string{"offset": "-200h", "host-wide": "true"}, "offset"},
		{"injection", map[string]string{"offset": "1s; date -s 0", "host-wide": "true"}, "offset"},
		{"ntp-daemon", map[string]string{"offset": "1s", "host-wide": "true", "ntp-daemon": "stop"}, "ntp-daemon"},
		{"per-process", map[string]string{"offset": "1s", "host-wide": "true", "pid": "1"}, "pid"},
		{"per-process without host-wide", map[string]string{"offset": "1s", "pid": "4321"}, "pid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: "time.skew", Params: tt.params, Duration: bulwark.Duration(time.Minute)})
			var pe *fault.ParamError
			if !errors.As(err, &pe) || pe.Param != tt.param {
				t.Fatalf("inject %v = %v, want a ParamError naming --%s", tt.params, err, tt.param)
			}
			if tt.param == "pid" && (!strings.Contains(pe.Message, "no per-process mode") || !strings.Contains(pe.Message, "time namespaces")) {
				t.Errorf("--pid refused without the reason: %s", pe.Message)
			}
		})
	}
	if fs, _ := m.Faults(context.Background(), bulwark.FaultFilter{}); len(fs) != 0 {
		t.Errorf("journal holds %d faults after bad input", len(fs))
	}
}

// TestTimeDaemonRefused: a running chronyd (in a fake proc tree) refuses
// the fault unless --ntp-daemon=ignore.
func TestTimeDaemonRefused(t *testing.T) {
	for _, name := range []string{"chronyd", "ntpd", "systemd-timesyn", "ptp4l"} {
		t.Run(name, func(t *testing.T) {
			c := fake(t)
			h := host(t)
			dir := filepath.Join(h.ProcRoot, "4242")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "comm"), []byte(name+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			m := manager(t, h)
			params := map[string]string{"offset": "1m", "host-wide": "true"}
			_, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: "time.skew", Params: params, Duration: bulwark.Duration(time.Minute)})
			var pe *fault.ParamError
			if !errors.As(err, &pe) || pe.Param != "ntp-daemon" || !strings.Contains(pe.Message, name+" (pid 4242)") || !strings.Contains(pe.Message, "ntp.block") {
				t.Fatalf("inject with %s running = %v", name, err)
			}
			if len(c.steps) != 0 {
				t.Fatalf("the clock was stepped: %v", c.steps)
			}
			params["ntp-daemon"] = "ignore"
			f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: "time.skew", Params: params, Duration: bulwark.Duration(time.Minute)})
			if err != nil || f.State != bulwark.StateActive {
				t.Fatalf("inject with --ntp-daemon=ignore: %v", err)
			}
			if _, err := m.Recover(context.Background(), f.ID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOneSkewAtATime: the wall clock is one resource.
func TestOneSkewAtATime(t *testing.T) {
	fake(t)
	h := host(t)
	m := manager(t, h)
	spec := bulwark.FaultSpec{Kind: "time.skew", Params: map[string]string{"offset": "1m", "host-wide": "true"}, Duration: bulwark.Duration(time.Minute)}
	if _, err := m.Inject(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Inject(context.Background(), spec); err == nil {
		t.Fatal("a second skew was accepted while the first is active")
	}
}

// TestDeadlineIgnoresWallClock: the manager's deadlines run on
// CLOCK_BOOTTIME, so a wall clock moved a day ahead expires nothing early,
// and one moved a day back stretches nothing.
func TestDeadlineIgnoresWallClock(t *testing.T) {
	fake(t)
	h := host(t)
	var mu sync.Mutex
	var wall time.Duration
	h.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(wall) }
	setWall := func(d time.Duration) { mu.Lock(); wall = d; mu.Unlock() }
	m := manager(t, h)
	spec := bulwark.FaultSpec{Kind: "time.skew", Params: map[string]string{"offset": "1m", "host-wide": "true"}, Duration: bulwark.Duration(time.Minute)}

	f, err := m.Inject(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	setWall(24 * time.Hour)
	if swept, err := m.Sweep(context.Background()); err != nil || len(swept) != 0 {
		t.Fatalf("sweep with the wall clock a day ahead expired %+v (%v)", swept, err)
	}
	if _, err := m.Recover(context.Background(), f.ID); err != nil {
		t.Fatal(err)
	}

	setWall(0)
	spec.Duration = bulwark.Duration(200 * time.Millisecond)
	if _, err := m.Inject(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	setWall(-24 * time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for {
		swept, err := m.Sweep(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(swept) == 1 && swept[0].EndReason == "expired" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a 200 ms fault did not expire in 10 s with the wall clock a day back")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
