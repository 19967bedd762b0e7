//go:build linux

package file_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
)

// contractFile writes name with content in the sandbox's file root and
// returns the params for it plus extra.
func contractFile(name string, content []byte, path *string, extra map[string]string) func(t *testing.T, h *fault.Host) map[string]string {
	return func(t *testing.T, h *fault.Host) map[string]string {
		*path = filepath.Join(h.FileRoots[0], name)
		must(t, os.WriteFile(*path, content, 0o640))
		must(t, os.Chtimes(*path, past, past))
		out := map[string]string{"path": *path}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
}

// exactly checks the file holds want and the state directory is empty.
func exactly(path *string, want []byte) func(t *testing.T, h *fault.Host) {
	return func(t *testing.T, h *fault.Host) {
		assertBytes(t, *path, want)
		assertStateClean(t, h.StateDir)
	}
}

func TestContractDelete(t *testing.T) {
	var path string
	orig := original(4096)
	faulttest.Run(t, "file.delete", faulttest.Case{
		Name:  "delete",
		Setup: contractFile("contract.dat", orig, &path, nil),
		Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
			assertGone(t, path)
		},
		Gone: exactly(&path, orig),
	})
}

func TestContractHold(t *testing.T) {
	var path string
	orig := original(2048)
	faulttest.Run(t, "file.hold", faulttest.Case{
		Name: "hold",
		// --until must lie within the duration, and the suite's expiry case
		// shortens it: TestHoldUntilThenBack covers --until.
		Setup:  contractFile("SETTLE.csv", orig, &path, nil),
		Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) { assertGone(t, path) },
		Gone:   exactly(&path, orig),
	})
}

func TestContractAppend(t *testing.T) {
	var path string
	orig := original(1024)
	grew := func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
		if len(readFile(t, path)) <= len(orig) {
			t.Fatal("nothing appended")
		}
	}
	faulttest.Run(t, "file.append",
		faulttest.Case{Name: "data", Setup: contractFile("a.csv", orig, &path, map[string]string{"data": "1,2,3\n"}), Effect: grew, Gone: exactly(&path, orig)},
		faulttest.Case{Name: "random", Setup: contractFile("b.bin", orig, &path, map[string]string{"size": "64KiB", "pattern": "random", "seed": "1"}), Effect: grew, Gone: exactly(&path, orig)},
	)
}

func TestContractMutate(t *testing.T) {
	var path string
	orig := []byte("id,amount\n1,100.00\n2,\"2,000.00\"\n")
	faulttest.Run(t, "file.mutate", faulttest.Case{
		Name:  "csv",
		Setup: contractFile("recon.csv", orig, &path, map[string]string{"record": "2", "field": "amount", "op": "add:0.01"}),
		Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
			assertBytes(t, path, []byte("id,amount\n1,100.01\n2,\"2,000.00\"\n"))
		},
		Gone: exactly(&path, orig),
	})
}

func TestContractChmod(t *testing.T) {
	var path string
	faulttest.Run(t, "file.chmod", faulttest.Case{
		Name:  "chmod",
		Setup: contractFile("secret.key", original(64), &path, map[string]string{"mode": "0000"}),
		Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0 {
				t.Fatalf("mode not changed: %v", err)
			}
		},
		Gone: func(t *testing.T, h *fault.Host) {
			assertFileMeta(t, path, 0o640, past)
			assertStateClean(t, h.StateDir)
		},
	})
}
