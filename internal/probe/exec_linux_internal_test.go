package probe

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestCheckedCommandRunsCheckedBytes replaces the path after the check and
// before the exec: the bytes that were checked (/bin/true) still run, not the
// replacement (/bin/false). This is the TOCTOU property the package documents.
func TestCheckedCommandRunsCheckedBytes(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "check")
	cp := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cp("/bin/true", bin)
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	list := NewAllowList()
	if err := list.Add(bin, fmt.Sprintf("%x", sha256.Sum256(b))); err != nil {
		t.Fatal(err)
	}

	cmd, cleanup, err := checkedCommand(context.Background(), list, []string{bin})
	if err != nil {
		t.Fatalf("checkedCommand: %v", err)
	}
	defer cleanup()
	cp("/bin/false", bin+".new")
	if err := os.Rename(bin+".new", bin); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Run(); err != nil {
		t.Fatalf("run after replacing the path: %v (the replacement ran, not the checked bytes)", err)
	}
}
