//go:build linux

package exhaust_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/exhaust"
)

// fakeProc writes files under a new directory standing in for /proc.
func fakeProc(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// prepareHW prepares kind with params on a host whose proc root is root and
// returns the receipt's target and reserve, or the error.
func prepareHW(t *testing.T, root, kind string, params map[string]string) (target, reserve int, err error) {
	t.Helper()
	h := fault.DefaultHost(t.TempDir())
	h.ProcRoot = root
	k, _ := fault.Lookup(kind)
	p, err := fault.Decode(k.Info(), params)
	if err != nil {
		return 0, 0, err
	}
	r, err := k.Prepare(context.Background(), h, fault.Request{ID: "f1", Params: p, Duration: time.Minute, Deadline: time.Now().Add(time.Minute)})
	if err != nil {
		return 0, 0, err
	}
	var d struct {
		HostWide bool `json:"hostWide"`
		Target   int  `json:"target"`
		Reserve  int  `json:"reserve"`
	}
	if err := json.Unmarshal(r.Data, &d); err != nil || !d.HostWide {
		t.Fatalf("receipt %s: %v", r.Data, err)
	}
	if r.Resource != "host-wide:"+strings.TrimSuffix(kind, ".exhaust") {
		t.Errorf("resource %q", r.Resource)
	}
	return d.Target, d.Reserve, nil
}

// TestHostWideArithmetic checks the plan of each host-wide mode against
// fake proc roots: what is free, the default reserve, the minimum, and the
// refusals (each naming its parameter).
func TestHostWideArithmetic(t *testing.T) {
	fd := func(nr string) string {
		return fakeProc(t, map[string]string{"sys/fs/file-nr": nr, "sys/fs/nr_open": "1048576"})
	}
	pid := func(pidMax string) string {
		return fakeProc(t, map[string]string{
			"sys/kernel/pid_max": pidMax, "sys/kernel/threads-max": "100000", "loadavg": "0.10 0.20 0.30 1/500 4242\n",
			"1/task/1/stat": "", "1/task/2/stat": "", "7/task/7/stat": "", "self/x": "",
		})
	}
	port := func(rng string) string {
		return fakeProc(t, map[string]string{
			"sys/net/ipv4/ip_local_port_range": rng,
			// Two sockets in the range (ports 40001 and 40002), one outside.
			"net/tcp": "  sl  local_address rem_address   st\n" +
				"   0: 0100007F:9C41 0100007F:0050 01\n   1: 0100007F:9C42 0100007F:0050 06\n   2: 0100007F:0016 00000000:0000 0A\n",
		})
	}
	ok := []struct {
		name, root, kind string
		params           map[string]string
		target, reserve  int
	}{
		{"fd default reserve", fd("5000\t0\t20000\n"), exhaust.FDID, map[string]string{"host-wide": "true"}, 20000 - 5000 - 4096, 4096},
		{"fd default reserve 5 %", fd("70000\t0\t90000\n"), exhaust.FDID, map[string]string{"host-wide": "true"}, 90000 - 70000 - 4500, 4500},
		{"fd reserve given", fd("5000\t0\t20000\n"), exhaust.FDID, map[string]string{"host-wide": "true", "reserve": "1024"}, 20000 - 5000 - 1024, 1024},
		// min(4000-300-3 tasks, 100000-500) = 3697, reserve max(5 % of 3700, 256) = 256.
		{"pid default reserve", pid("4000"), exhaust.PIDID, map[string]string{"host-wide": "true"}, 3697 - 256, 256},
		{"pid reserve given", pid("4000"), exhaust.PIDID, map[string]string{"host-wide": "true", "reserve": "1000"}, 3697 - 1000, 1000},
		// 1000 ports, 2 in use: 998 free; default reserve 5 % = 50.
		// 200 ports: 5 % is 10, below the minimum of 16.
		{"port default reserve at least the minimum", port("40000 40199"), exhaust.PortID, map[string]string{"host-wide": "true"}, 198 - 16, 16},
		{"port default reserve", port("40000 40999"), exhaust.PortID, map[string]string{"host-wide": "true"}, 998 - 50, 50},
		{"port reserve share", port("40000 40999"), exhaust.PortID, map[string]string{"host-wide": "true", "reserve": "10%"}, 998 - 100, 100},
		{"port count", port("40000 40999"), exhaust.PortID, map[string]string{"host-wide": "true", "count": "500"}, 500, 50},
		{"port percent", port("40000 40999"), exhaust.PortID, map[string]string{"host-wide": "true", "percent": "90"}, 900, 50},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			target, reserve, err := prepareHW(t, tc.root, tc.kind, tc.params)
			if err != nil || target != tc.target || reserve != tc.reserve {
				t.Fatalf("target %d reserve %d err %v, want %d and %d", target, reserve, err, tc.target, tc.reserve)
			}
		})
	}
	bad := []struct {
		name, root, kind string
		params           map[string]string
		param, want      string
	}{
		{"fd below minimum", fd("5000\t0\t20000\n"), exhaust.FDID, map[string]string{"host-wide": "true", "reserve": "1023"}, "reserve", "below the minimum reserve of 1024"},
		{"fd nothing left", fd("18000\t0\t20000\n"), exhaust.FDID, map[string]string{"host-wide": "true", "reserve": "2000"}, "reserve", "only 2000 file handles are free"},
		{"fd beyond one helper", fd("5000\t0\t9000000\n"), exhaust.FDID, map[string]string{"host-wide": "true"}, "host-wide", "one helper holds at most"},
		{"pid below minimum", pid("4000"), exhaust.PIDID, map[string]string{"host-wide": "true", "reserve": "63"}, "reserve", "below the minimum reserve of 64"},
		{"pid beyond one helper", pid("4194304"), exhaust.PIDID, map[string]string{"host-wide": "true"}, "host-wide", "one helper starts at most 32768 threads"},
		{"pid nothing left", pid("400"), exhaust.PIDID, map[string]string{"host-wide": "true", "reserve": "100"}, "reserve", "only 97 task slots are free"},
		{"port below minimum", port("40000 40999"), exhaust.PortID, map[string]string{"host-wide": "true", "reserve": "15"}, "reserve", "below the minimum reserve of 16"},
		{"port 0 %", port("40000 40999"), exhaust.PortID, map[string]string{"host-wide": "true", "reserve": "0%"}, "reserve", "below the minimum"},
		{"port count into the reserve", port("40000 40999"), exhaust.PortID, map[string]string{"host-wide": "true", "count": "949"}, "count", "fewer than the reserve of 50"},
		{"port percent into the reserve", port("40000 40999"), exhaust.PortID, map[string]string{"host-wide": "true", "percent": "95"}, "percent", "fewer than the reserve of 50"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := prepareHW(t, tc.root, tc.kind, tc.params)
			var pe *fault.ParamError
			if !errors.As(err, &pe) || pe.Param != tc.param || !strings.Contains(pe.Message, tc.want) {
				t.Fatalf("error %v, want --%s: …%s…", err, tc.param, tc.want)
			}
		})
	}
}

// TestReceiptVersions: version 2 (host-wide records) still decodes version 1
// per-target receipts, and refuses versions it does not know.
func TestReceiptVersions(t *testing.T) {
	h := fault.DefaultHost(t.TempDir())
	k, _ := fault.Lookup(exhaust.PortID)
	if v := k.Info().ReceiptVersion; v != 2 {
		t.Fatalf("ReceiptVersion %d, want 2", v)
	}
	v1 := &fault.Receipt{Kind: exhaust.PortID, Version: 1, Data: json.RawMessage(`{"fault":"old1","destination":"127.0.0.1:80","count":5,"reserve":1,"low":40000,"high":40099,"exe":"/proc/self/exe"}`)}
	if err := k.Recover(context.Background(), h, v1); err != nil {
		t.Fatalf("recover a version 1 receipt: %v", err)
	}
	if _, err := k.VerifyRecovered(context.Background(), h, v1); err != nil {
		t.Fatalf("verify a version 1 receipt recovered: %v", err)
	}
	v3 := &fault.Receipt{Kind: exhaust.PortID, Version: 3, Data: v1.Data}
	if err := k.Recover(context.Background(), h, v3); err == nil || !strings.Contains(err.Error(), "version 3") {
		t.Fatalf("recover a version 3 receipt: %v", err)
	}
	// A version 1 record claiming to be host-wide is not read as one.
	odd := &fault.Receipt{Kind: exhaust.PortID, Version: 1, Data: json.RawMessage(`{"hostWide":true,"fault":"old2","resource":"port","exe":"/proc/self/exe","procRoot":"/proc"}`)}
	if err := k.Recover(context.Background(), h, odd); err != nil {
		t.Fatalf("recover: %v", err)
	}
}
