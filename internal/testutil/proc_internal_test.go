//go:build linux

package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadProcStatOddComm(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "42"), 0o755); err != nil {
		t.Fatal(err)
	}
	stat := "42 (we ird) (name)) T 7 42 42 0 -1 4194560 0 0 0 0\n"
	if err := os.WriteFile(filepath.Join(root, "42", "stat"), []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := ReadProc(root, 42)
	if err != nil {
		t.Fatal(err)
	}
	if p.Comm != "we ird) (name)" || p.State != "T" || p.PPID != 7 || p.StateClass() != "stopped" {
		t.Errorf("ReadProc = %+v (class %s)", p, p.StateClass())
	}
	s, err := TakeSnapshot(SnapshotOptions{NoNet: true, NoHosts: true, ProcRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.entries["proc 42"]; got != "comm=we ird) (name) state=stopped" {
		t.Errorf("snapshot entry = %q", got)
	}
}

func TestDescribeCgroup(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "bulwark-x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "memory.limit"), []byte("  1024\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := describeCgroup(dir); got != "children: bulwark-x" {
		t.Errorf("dir: %q", got)
	}
	if got := describeCgroup(filepath.Join(dir, "memory.limit")); got != "1024" {
		t.Errorf("file: %q", got)
	}
	if got := describeCgroup(filepath.Join(dir, "nope")); got != "absent" {
		t.Errorf("absent: %q", got)
	}
}
