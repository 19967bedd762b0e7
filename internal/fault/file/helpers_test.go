package file_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
)

// env is a file root and a state directory of their own, and a manager.
type env struct {
	root, state string
	host        *fault.Host
	m           *hostmgr.Manager
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{root: t.TempDir(), state: t.TempDir()}
	e.host = fault.DefaultHost(e.state)
	e.host.FileRoots = []string{e.root}
	e.m = e.open(t)
	return e
}

func (e *env) open(t *testing.T) *hostmgr.Manager {
	t.Helper()
	m, err := hostmgr.Open(context.Background(), hostmgr.Config{StateDir: e.state, Host: e.host})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// original is the content test files start with: no zero bytes, so that
// every change shows.
func original(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

var past = time.Date(2020, 1, 2, 3, 4, 5, 600_000_000, time.UTC)

// writeFile creates name in the root with content and an old mtime.
func (e *env) writeFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(e.root, name)
	if err := os.WriteFile(p, content, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, past, past); err != nil {
		t.Fatal(err)
	}
	return p
}

func spec(params map[string]string, d time.Duration) bulwark.FaultSpec {
	return bulwark.FaultSpec{Kind: "file.corrupt", Params: params, Duration: bulwark.Duration(d)}
}

func (e *env) inject(t *testing.T, params map[string]string) *bulwark.Fault {
	t.Helper()
	f, err := e.m.Inject(context.Background(), spec(params, time.Minute))
	if err != nil {
		t.Fatalf("inject %v: %v", params, err)
	}
	if f.State != bulwark.StateActive {
		t.Fatalf("state %s, want active", f.State)
	}
	return f
}

func mustRecover(t *testing.T, m *hostmgr.Manager, id string) *bulwark.Fault {
	t.Helper()
	fs, err := m.Recover(context.Background(), id)
	if err != nil {
		t.Fatalf("recover %s: %v", id, err)
	}
	if fs[0].State != bulwark.StateRecovered {
		t.Fatalf("state %s, want recovered", fs[0].State)
	}
	return fs[0]
}

func (e *env) backup(id string) string { return filepath.Join(e.state, "data", id, "original") }

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func assertBytes(t *testing.T, p string, want []byte) {
	t.Helper()
	if got := readFile(t, p); !bytes.Equal(got, want) {
		t.Fatalf("%s holds %q, want %q", p, got, want)
	}
}

func assertGone(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Lstat(p); !os.IsNotExist(err) {
		t.Fatalf("%s is still there (%v)", p, err)
	}
}

func evidence(f *bulwark.Fault, check string) (bulwark.Evidence, bool) {
	for _, e := range f.Evidence {
		if e.Check == check && e.OK {
			return e, true
		}
	}
	return bulwark.Evidence{}, false
}
