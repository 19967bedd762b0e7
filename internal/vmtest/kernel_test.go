package vmtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindKernelDir(t *testing.T) {
	root := t.TempDir()
	mk := func(name, content string) {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(EnvKernelDir, root)
	if _, err := findKernel(); err == nil || !strings.Contains(err.Error(), EnvKernelDir) {
		t.Fatalf("empty dir: %v, want an error naming %s", err, EnvKernelDir)
	}
	mk("boot/vmlinuz-6.1.0-9-amd64", "k")
	mk("boot/vmlinuz-6.1.0-12-amd64", "k") // newest, but without modules
	mk("boot/vmlinuz-6.1.0-10-amd64", "k")
	mk("lib/modules/6.1.0-9-amd64/modules.dep", "")
	mk("lib/modules/6.1.0-10-amd64/modules.dep", "")
	k, err := findKernel()
	if err != nil {
		t.Fatal(err)
	}
	if k.Version != "6.1.0-10-amd64" || k.Image != filepath.Join(root, "boot/vmlinuz-6.1.0-10-amd64") ||
		k.ModDir != filepath.Join(root, "lib/modules/6.1.0-10-amd64") {
		t.Errorf("found %+v, want 6.1.0-10-amd64 (the newest with modules)", k)
	}
}

func TestFindBusyboxRejectsDynamic(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "not-elf")
	if err := os.WriteFile(f, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{exe, f} {
		t.Setenv(EnvBusybox, p)
		if err := checkStatic(p); err == nil {
			continue // a static test binary (no -race, no cgo) is a fine "busybox" for this check
		}
		if _, err := findBusybox(); err == nil || !strings.Contains(err.Error(), EnvBusybox) {
			t.Errorf("%s: %v, want an error naming %s", p, err, EnvBusybox)
		}
	}
}
