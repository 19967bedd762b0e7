package disk_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
)

// prepare decodes params for kind and runs Prepare, as the manager would.
func prepare(t *testing.T, h *fault.Host, kind string, params map[string]string) (*fault.Receipt, error) {
	t.Helper()
	k, err := fault.Lookup(kind)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fault.Decode(k.Info(), params)
	if err != nil {
		return nil, err
	}
	return k.Prepare(context.Background(), h, fault.Request{ID: "t1", Params: p, Duration: time.Minute, Deadline: time.Now().Add(time.Minute)})
}

// wantParamError fails unless err is a *fault.ParamError naming param and
// containing want.
func wantParamError(t *testing.T, err error, param, want string) {
	t.Helper()
	var pe *fault.ParamError
	if !errors.As(err, &pe) || pe.Param != param || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want a ParamError for --%s containing %q", err, param, want)
	}
}

// open opens a host manager on h's state directory, closed by cleanup.
func open(t *testing.T, h *fault.Host) *hostmgr.Manager {
	t.Helper()
	m, err := hostmgr.Open(context.Background(), hostmgr.Config{StateDir: h.StateDir, Host: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// inject injects spec and fails unless it is active with passing evidence.
func inject(t *testing.T, m *hostmgr.Manager, kind string, params map[string]string) *bulwark.Fault {
	t.Helper()
	f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: kind, Params: params, Duration: bulwark.Duration(time.Minute)})
	if err != nil {
		t.Fatalf("inject %s: %v", kind, err)
	}
	if f.State != bulwark.StateActive {
		t.Fatalf("inject %s: %+v", kind, f)
	}
	for _, e := range f.Evidence {
		t.Logf("evidence %s ok=%v: %s", e.Check, e.OK, e.Detail)
	}
	return f
}

// recoverFault recovers id and fails unless it ends recovered.
func recoverFault(t *testing.T, m *hostmgr.Manager, id string) {
	t.Helper()
	out, err := m.Recover(context.Background(), id)
	if err != nil || len(out) != 1 || out[0].State != bulwark.StateRecovered {
		t.Fatalf("recover %s: %v %+v", id, err, out)
	}
}

// diskDir returns a new directory on a real block-device filesystem (under
// the user cache directory, which the sandbox does not cover with tmpfs),
// removed by cleanup; it skips when that is tmpfs too.
func diskDir(t *testing.T) string {
	t.Helper()
	base, err := os.UserCacheDir()
	if err != nil {
		t.Skipf("no user cache directory: %v", err)
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Skipf("create %s: %v", base, err)
	}
	d, err := os.MkdirTemp(base, "bulwark-test-")
	if err != nil {
		t.Skipf("create a directory under %s: %v", base, err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// mkdir creates dir/name and returns it.
func mkdir(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
