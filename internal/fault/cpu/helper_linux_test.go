package cpu

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseHelperArgs(t *testing.T) {
	d := receiptV1{Fault: "F1", Exe: "/x", Percent: 12.5, Cores: 2, Mode: ModeHold, Deadline: time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)}
	c, err := parseHelperArgs(helperArgs(d, "/st/status.json")[2:])
	if err != nil {
		t.Fatal(err)
	}
	if c.Fault != "F1" || c.percent != 12.5 || c.cores != 2 || c.mode != ModeHold || !c.Deadline.Equal(d.Deadline) || c.Status != "/st/status.json" {
		t.Errorf("parsed %+v from %+v", c, d)
	}
	good := []string{"--fault", "F", "--deadline", "2030-01-01T00:00:00Z", "--percent", "50", "--cores", "1", "--mode", "add", "--status", "/s"}
	for _, tc := range []struct {
		name string
		set  []string // flag, value
		want string
	}{
		{"no deadline", []string{"--deadline", ""}, "--deadline"},
		{"percent 0", []string{"--percent", "0"}, "--percent"},
		{"percent 101", []string{"--percent", "101"}, "--percent"},
		{"cores 0", []string{"--cores", "0"}, "--cores"},
		{"mode", []string{"--mode", "x"}, "--mode"},
		{"relative status", []string{"--status", "s"}, "--status"},
		{"bad fault", []string{"--fault", "../x"}, "--fault"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string(nil), good...)
			for i := range args {
				if args[i] == tc.set[0] {
					args[i+1] = tc.set[1]
				}
			}
			if _, err := parseHelperArgs(args); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseHelperArgs(%q) = %v, want an error about %s", args, err, tc.want)
			}
		})
	}
}

func TestReadCPUTimes(t *testing.T) {
	root := t.TempDir()
	stat := "cpu  10 0 10 80 0 0 0 0 0 0\ncpu0 5 0 5 40 0 0 0 0 0 0\ncpu1 5 1 4 30 10 0 0 0 0 0\nintr 1\n"
	if err := os.WriteFile(filepath.Join(root, "stat"), []byte(stat), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := readCPUTimes(root, []int{1, 0})
	if err != nil {
		t.Fatal(err)
	}
	if a[0] != (cpuTimes{busy: 10, total: 50}) || a[1] != (cpuTimes{busy: 10, total: 50}) {
		t.Errorf("readCPUTimes = %+v", a)
	}
	b := []cpuTimes{{busy: 40, total: 100}, {busy: 10, total: 100}}
	if u := usage(a, b); u[0] != 60 || u[1] != 0 {
		t.Errorf("usage = %v, want [60 0]", u)
	}
	if _, err := readCPUTimes(root, []int{7}); err == nil {
		t.Error("cpu7 found in a two-cpu stat")
	}
}
