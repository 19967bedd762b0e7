package netfault

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKernelBypassFindsOnloadRDMAAndDPDK(t *testing.T) {
	sys, dev := t.TempDir(), t.TempDir()
	if got := KernelBypass(sys, dev); len(got) != 0 {
		t.Fatalf("empty roots: %v", got)
	}
	mk := func(path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk(filepath.Join(dev, "onload"), "")
	mk(filepath.Join(sys, "class", "infiniband", "mlx5_0", "node_type"), "1: CA\n")
	mk(filepath.Join(sys, "bus", "pci", "drivers", "vfio-pci", "0000:3b:00.0", "class"), "0x020000\n")
	mk(filepath.Join(sys, "bus", "pci", "drivers", "vfio-pci", "0000:5e:00.0", "class"), "0x010802\n") // NVMe: not a NIC
	got := strings.Join(KernelBypass(sys, dev), " | ")
	for _, want := range []string{"OpenOnload", "RDMA devices mlx5_0", "NIC 0000:3b:00.0 bound to vfio-pci"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q missing from %q", want, got)
		}
	}
	if strings.Contains(got, "5e:00.0") {
		t.Errorf("a non-network device counted: %q", got)
	}
	if note := bypassNote(sys, dev); !strings.Contains(note, "effect check") {
		t.Errorf("note %q", note)
	}
}
