package disk_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/disk"
)

// fakeProc writes a proc root with the given mountinfo, kernel config
// (gzipped; "" for none) and misc.
func fakeProc(t *testing.T, mountinfo, config, misc string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "self"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("self/mountinfo", []byte(mountinfo))
	write("misc", []byte(misc))
	if config != "" {
		var buf bytes.Buffer
		z := gzip.NewWriter(&buf)
		z.Write([]byte(config))
		z.Close()
		write("config.gz", buf.Bytes())
	}
	return dir
}

// TestIOFaultReasons checks the reason disk.latency and disk.error give for
// each combination of mechanisms, on fake proc roots.
func TestIOFaultReasons(t *testing.T) {
	debug := t.TempDir()
	if err := os.Mkdir(filepath.Join(debug, "fail_make_request"), 0o755); err != nil {
		t.Fatal(err)
	}
	const root = "22 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
	tests := []struct {
		name                    string
		mountinfo, config, misc string
		want                    []string
	}{
		{"bare kernel", root, "# CONFIG_FAULT_INJECTION is not set\n# CONFIG_BLK_DEV_DM is not set\n", "235 autofs\n",
			[]string{"not in this kernel (CONFIG_FAULT_INJECTION is not set, CONFIG_FAIL_MAKE_REQUEST is not set)", "no device-mapper in this kernel (CONFIG_BLK_DEV_DM is not set"}},
		{"no config", root, "", "",
			[]string{"CONFIG_FAULT_INJECTION unknown (no ", "CONFIG_BLK_DEV_DM unknown"}},
		{"fail_make_request mounted", root + "30 22 0:7 / " + debug + " rw - debugfs debugfs rw\n",
			"CONFIG_FAULT_INJECTION=y\nCONFIG_FAIL_MAKE_REQUEST=y\n", "",
			[]string{filepath.Join(debug, "fail_make_request") + ": present, but its probability, interval and times are one setting for the whole host"}},
		{"fail_make_request built, debugfs unmounted", root, "CONFIG_FAULT_INJECTION=y\nCONFIG_FAIL_MAKE_REQUEST=y\n", "",
			[]string{"built in (CONFIG_FAIL_MAKE_REQUEST=y) but debugfs is not mounted"}},
		{"device-mapper", root, "CONFIG_BLK_DEV_DM=y\nCONFIG_DM_DELAY=m\n# CONFIG_DM_FLAKEY is not set\n", "236 device-mapper\n",
			[]string{"device-mapper is present (CONFIG_DM_DELAY=m, CONFIG_DM_FLAKEY is not set)", "cannot be scoped to one process's files"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fault.Host{ProcRoot: fakeProc(t, tt.mountinfo, tt.config, tt.misc)}
			for _, id := range []string{disk.LatencyID, disk.ErrorID} {
				k, err := fault.Lookup(id)
				if err != nil {
					t.Fatal(err)
				}
				err = k.(fault.Availability).Available(context.Background(), h)
				if err == nil {
					t.Fatalf("%s available", id)
				}
				for _, w := range append(tt.want, "FUSE interposer") {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: reason %q lacks %q", id, err, w)
					}
				}
			}
		})
	}
}

// TestIOFaultKindsRefuse: on this host both kinds are unavailable with a
// reason naming both mechanisms, and Prepare refuses with the same reason as
// an "unavailable" error.
func TestIOFaultKindsRefuse(t *testing.T) {
	h := fault.DefaultHost(t.TempDir())
	for _, id := range []string{disk.LatencyID, disk.ErrorID} {
		k, err := fault.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		reason := k.(fault.Availability).Available(context.Background(), h)
		if reason == nil || !strings.Contains(reason.Error(), "fail_make_request") || !strings.Contains(reason.Error(), "dm-delay/dm-flakey") {
			t.Fatalf("%s: reason %v", id, reason)
		}
		t.Logf("%s: %v", id, reason)
		params := map[string]string{"pid": "2", "path": "/tmp", "delay": "10ms"}
		if id == disk.ErrorID {
			params = map[string]string{"pid": "2", "path": "/tmp"}
		}
		p, err := fault.Decode(k.Info(), params)
		if err != nil {
			t.Fatalf("%s: decode: %v", id, err)
		}
		_, err = k.Prepare(context.Background(), h, fault.Request{ID: bulwark.NewID(), Params: p})
		if bulwark.ErrorCode(err) != bulwark.EUNAVAILABLE || !strings.Contains(err.Error(), "fail_make_request") {
			t.Errorf("%s: prepare: %v", id, err)
		}
	}
}
