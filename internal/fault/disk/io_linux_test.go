package disk_test

import (
	"math"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/disk"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

func TestIOBadInput(t *testing.T) {
	root := t.TempDir()
	h := fault.DefaultHost(t.TempDir())
	h.FileRoots = []string{root}
	dir := mkdir(t, root, "x")
	tests := []struct {
		params      map[string]string
		param, want string
	}{
		{map[string]string{"path": dir}, "rate", "is required"},
		{map[string]string{"path": dir, "rate": "1MiB/s", "iops": "10"}, "iops", "not both"},
		{map[string]string{"path": dir, "rate": "1KiB/s"}, "rate", "less than one --block-size"},
		{map[string]string{"path": dir, "rate": "1MiB/s", "block-size": "1000"}, "block-size", "multiple of 4KiB"},
		{map[string]string{"path": dir, "rate": "1MiB/s", "file-size": "4KiB"}, "file-size", "smaller than --block-size"},
		{map[string]string{"path": dir, "rate": "1MiB/s", "mode": "trim"}, "mode", "not one of"},
		{map[string]string{"path": dir, "iops": "-1"}, "iops", "out of range"},
		{map[string]string{"path": "/etc", "rate": "1MiB/s"}, "path", "outside the file roots"},
		{map[string]string{"path": dir, "rate": "1MiB/s", "file-size": "100000000GiB"}, "file-size", "reserve"},
	}
	for _, tt := range tests {
		_, err := prepare(t, h, disk.IOID, tt.params)
		wantParamError(t, err, tt.param, tt.want)
	}
}

// ioStatus waits until the helper of fault id has reported a measured
// second, and returns that status.
func ioStatus(t *testing.T, h *fault.Host, id string, after time.Time) *disk.IOStatus {
	t.Helper()
	end := time.Now().Add(5 * time.Second)
	for time.Now().Before(end) {
		s, err := disk.ReadIOStatus(filepath.Join(h.StateDir, "data", id, "status.json"))
		if err == nil && s.BytesPerSec > 0 && s.Time.After(after) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no measured status from the disk-io helper of %s", id)
	return nil
}

func TestIOContract(t *testing.T) {
	effect := func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
		s := ioStatus(t, h, f.ID, time.Now())
		t.Logf("achieved %.0f B/s %.0f ops/s direct=%v %s", s.BytesPerSec, s.OpsPerSec, s.Direct, s.Note)
		if s.TotalBytes == 0 {
			t.Errorf("helper moved no bytes: %+v", s)
		}
		if _, err := os.Stat(s.File); err != nil {
			t.Errorf("scratch file: %v", err)
		}
	}
	faulttest.Run(t, disk.IOID,
		faulttest.Case{
			Name: "mixed-rate",
			Setup: func(t *testing.T, h *fault.Host) map[string]string {
				return map[string]string{"path": mkdir(t, h.FileRoots[0], "x"), "rate": "4MiB/s", "mode": "mixed", "file-size": "4MiB"}
			},
			Effect: effect,
		},
		faulttest.Case{
			Name: "write-iops",
			Setup: func(t *testing.T, h *fault.Host) map[string]string {
				return map[string]string{"path": mkdir(t, h.FileRoots[0], "y"), "iops": "100", "block-size": "4KiB", "file-size": "1MiB"}
			},
			Effect: effect,
		},
	)
}

// TestIOHelperKilled kills the helper with SIGKILL, so it cannot remove its
// scratch file, and checks that recover does.
func TestIOHelperKilled(t *testing.T) {
	testutil.Require(t, "root", "netns")
	if !testutil.Sandbox(t) {
		return
	}
	h := faulttest.SandboxHost(t)
	dir := mkdir(t, h.FileRoots[0], "x")
	m := open(t, h)
	f := inject(t, m, disk.IOID, map[string]string{"path": dir, "rate": "1MiB/s", "file-size": "1MiB"})
	s := ioStatus(t, h, f.ID, time.Time{})
	syscall.Kill(s.PID, syscall.SIGKILL)
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat(s.File); err != nil {
		t.Fatalf("scratch file after SIGKILL: %v", err)
	}
	recoverFault(t, m, f.ID)
	if _, err := os.Stat(s.File); !os.IsNotExist(err) {
		t.Fatalf("scratch file after recover: %v", err)
	}
}

// TestIORateHeld measures the throughput the helper holds with O_DIRECT on a
// block-device filesystem against the requested rate (the disk.io
// benchmark figure), for a byte rate and an IOPS target.
func TestIORateHeld(t *testing.T) {
	testutil.Require(t, "root")
	if testing.Short() {
		t.Skip("measures for a few seconds")
	}
	dir := diskDir(t)
	h := fault.DefaultHost(t.TempDir())
	h.FileRoots = []string{dir}
	h.Exe = "/proc/self/exe"
	for _, c := range []struct {
		name   string
		params map[string]string
		want   float64
		ops    bool
	}{
		{"write 8MiB/s", map[string]string{"rate": "8MiB/s", "mode": "write"}, 8 << 20, false},
		{"read 16MiB/s", map[string]string{"rate": "16MiB/s", "mode": "read"}, 16 << 20, false},
		{"mixed 200 iops", map[string]string{"iops": "200", "mode": "mixed", "block-size": "4KiB"}, 200, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.params["path"] = mkdir(t, dir, "x")
			c.params["file-size"] = "16MiB"
			m := open(t, h)
			f := inject(t, m, disk.IOID, c.params)
			defer recoverFault(t, m, f.ID)
			first := ioStatus(t, h, f.ID, time.Time{})
			var got []float64
			for i := 0; i < 2; i++ {
				s := ioStatus(t, h, f.ID, first.Time)
				first = s
				v := s.BytesPerSec
				if c.ops {
					v = s.OpsPerSec
				}
				got = append(got, v)
				if !s.Direct {
					t.Logf("not O_DIRECT: %s", s.Note)
				}
			}
			mean := (got[0] + got[1]) / 2
			t.Logf("%s: held %.4g per second over 2 s (%v), requested %.4g: %.1f %%", c.name, mean, got, c.want, mean/c.want*100)
			if off := math.Abs(mean-c.want) / c.want; off > 0.25 {
				if load := loadAvg(); load > 2 {
					t.Skipf("held %.1f %% of the target with load average %.1f on this shared machine", mean/c.want*100, load)
				}
				t.Errorf("held %.4g, want %.4g ± 25 %%", mean, c.want)
			}
		})
	}
}

// loadAvg returns the one-minute load average.
func loadAvg() float64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return float64(si.Loads[0]) / 65536
}

// TestIOEverythingKilledThenSweep kills the helper and abandons the manager
// (as if every bulwark process had been SIGKILLed) and checks that a sweep in
// a new manager after the expiry stops nothing twice and removes the scratch
// file the helper could not.
func TestIOEverythingKilledThenSweep(t *testing.T) {
	testutil.Require(t, "root", "netns")
	if !testutil.Sandbox(t) {
		return
	}
	h := faulttest.SandboxHost(t)
	dir := mkdir(t, h.FileRoots[0], "x")
	m := open(t, h)
	f, err := m.Inject(t.Context(), bulwark.FaultSpec{Kind: disk.IOID, Duration: bulwark.Duration(500 * time.Millisecond),
		Params: map[string]string{"path": dir, "rate": "1MiB/s", "file-size": "1MiB"}})
	if err != nil || f.State != bulwark.StateActive {
		t.Fatalf("inject: %v %+v", err, f)
	}
	s := ioStatus(t, h, f.ID, time.Time{})
	syscall.Kill(s.PID, syscall.SIGKILL)
	m.Close()
	time.Sleep(time.Until(*f.ExpiresAt) + 50*time.Millisecond)
	m2 := open(t, h)
	swept, err := m2.Sweep(t.Context())
	if err != nil || len(swept) != 1 || swept[0].State != bulwark.StateRecovered {
		t.Fatalf("sweep: %v %+v", err, swept)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left in %s after the sweep: %v", dir, ents)
	}
}
