//go:build linux

package testutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSetEnv(t *testing.T) {
	got := setEnv([]string{"A=1", "AB=2", "B=3"}, "A=x", "C=y")
	want := "AB=2 B=3 A=x C=y"
	if strings.Join(got, " ") != want {
		t.Errorf("setEnv = %v, want %s", got, want)
	}
}

func TestParseNSIDs(t *testing.T) {
	m := parseNSIDs("mnt:[4026531841] net:[4026531840] pid:[4026531836]")
	if m["mnt"] != "mnt:[4026531841]" || m["net"] != "net:[4026531840]" || m["pid"] != "pid:[4026531836]" {
		t.Errorf("parseNSIDs = %v", m)
	}
	if len(parseNSIDs("")) != 0 {
		t.Error("parseNSIDs of empty string is not empty")
	}
}

func TestCheckNoSharedMounts(t *testing.T) {
	dir := t.TempDir()
	private := "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n21 26 0:20 / /proc rw,relatime - proc proc rw\n"
	shared := private + "30 26 0:27 / /mnt rw,relatime shared:5 - tmpfs tmpfs rw\n"
	for name, tt := range map[string]struct {
		content string
		wantErr bool
	}{"private": {private, false}, "shared": {shared, true}} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(tt.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := checkNoSharedMounts(p); (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, want error %t", name, err, tt.wantErr)
		}
	}
}
