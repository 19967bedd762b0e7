package file_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
)

func TestMain(m *testing.M) { faulttest.Main(m) }

func TestContract(t *testing.T) {
	orig := original(4096)
	var path string
	setup := func(params map[string]string) func(t *testing.T, h *fault.Host) map[string]string {
		return func(t *testing.T, h *fault.Host) map[string]string {
			path = filepath.Join(h.FileRoots[0], "contract.dat")
			must(t, os.WriteFile(path, orig, 0o640))
			must(t, os.Chtimes(path, past, past))
			out := map[string]string{"path": path}
			for k, v := range params {
				out[k] = v
			}
			return out
		}
	}
	changed := func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
		if bytes.Equal(readFile(t, path), orig) {
			t.Fatal("file bytes unchanged while the fault is active")
		}
	}
	gone := func(t *testing.T, h *fault.Host) {
		assertBytes(t, path, orig)
		if ents, _ := os.ReadDir(filepath.Join(h.StateDir, "data")); len(ents) != 0 {
			t.Fatalf("backups left in the state directory: %v", ents)
		}
	}
	faulttest.Run(t, "file.corrupt",
		faulttest.Case{Name: "flip", Setup: setup(map[string]string{"offset": "100", "length": "64"}), Effect: changed, Gone: gone},
		faulttest.Case{Name: "zero", Setup: setup(map[string]string{"mode": "zero", "length": "4KiB"}), Effect: changed, Gone: gone},
		faulttest.Case{Name: "truncate", Setup: setup(map[string]string{"mode": "truncate"}), Effect: changed, Gone: gone},
	)
}
