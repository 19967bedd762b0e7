package disk

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestAllocateZeros covers the fallback for filesystems without fallocate.
func TestAllocateZeros(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "z"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const size = 3*zeroChunk + 123
	method, err := allocate(context.Background(), f, size, true)
	if err != nil || method != "zeros" {
		t.Fatalf("allocate: %s %v", method, err)
	}
	var st unix.Stat_t
	unix.Fstat(int(f.Fd()), &st)
	if st.Size != size || st.Blocks*512 < size {
		t.Fatalf("size %d blocks %d", st.Size, st.Blocks)
	}
}
