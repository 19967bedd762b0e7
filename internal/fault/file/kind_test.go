package file_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/file"
)

// prepared runs Decode and Prepare for params, as the manager would.
func prepared(t *testing.T, e *env, id string, params map[string]string) *fault.Receipt {
	t.Helper()
	k := file.Corrupt{}
	p, err := fault.Decode(k.Info(), params)
	if err != nil {
		t.Fatal(err)
	}
	r, err := k.Prepare(context.Background(), e.host, fault.Request{ID: id, Params: p, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCorruptInterruptedWriteIsRestored(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	k := file.Corrupt{}
	orig := original(64)
	p := e.writeFile(t, "data", orig)
	r := prepared(t, e, "f1", map[string]string{"path": p, "offset": "8", "length": "32"})
	must(t, k.Apply(ctx, e.host, r))

	// A crash halfway through the write leaves half the range changed and
	// the marker in place: neither the original nor the faulted bytes.
	half := readFile(t, p)
	copy(half[24:40], orig[24:40])
	must(t, os.WriteFile(p, half, 0o640))
	must(t, os.WriteFile(filepath.Join(e.state, "data", "f1", "writing"), nil, 0o600))

	must(t, k.Recover(ctx, e.host, r))
	assertBytes(t, p, orig)
	if _, err := k.VerifyRecovered(ctx, e.host, r); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptStatusDrift(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	k := file.Corrupt{}
	p := e.writeFile(t, "data", original(16))
	r := prepared(t, e, "f2", map[string]string{"path": p, "mode": "zero"})
	assertBytes(t, p, original(16)) // Prepare changes nothing
	must(t, k.Apply(ctx, e.host, r))
	if _, err := k.Verify(ctx, e.host, r); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Status(ctx, e.host, r); err != nil {
		t.Fatalf("status while faulted: %v", err)
	}
	must(t, os.WriteFile(p, []byte("changed"), 0o640))
	if _, err := k.Status(ctx, e.host, r); err == nil || !strings.Contains(err.Error(), "no longer holds the faulted bytes") {
		t.Fatalf("status after a change: %v, want drift", err)
	}
	must(t, os.WriteFile(p, original(16), 0o640))
	if _, err := k.Status(ctx, e.host, r); err == nil || !strings.Contains(err.Error(), "original bytes again") {
		t.Fatalf("status after a restore by hand: %v, want drift", err)
	}
	must(t, k.Recover(ctx, e.host, r))
	if _, err := k.VerifyRecovered(ctx, e.host, r); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptFileChangedBeforeApply(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	k := file.Corrupt{}
	p := e.writeFile(t, "data", original(16))
	r := prepared(t, e, "f3", map[string]string{"path": p})
	theirs := bytes.ToUpper(original(16))
	must(t, os.WriteFile(p, theirs, 0o640))
	if err := k.Apply(ctx, e.host, r); err == nil || !strings.Contains(err.Error(), "changed after prepare") {
		t.Fatalf("apply to a file changed since prepare: %v", err)
	}
	assertBytes(t, p, theirs)
	must(t, k.Recover(ctx, e.host, r)) // what the manager does next: nothing to undo
	assertBytes(t, p, theirs)
	assertGone(t, filepath.Join(e.state, "data", "f3"))
}

func TestCorruptSymlinkSwappedInAfterPrepare(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	k := file.Corrupt{}
	outside := filepath.Join(t.TempDir(), "secret")
	must(t, os.WriteFile(outside, original(16), 0o600))
	p := e.writeFile(t, "data", original(16))
	r := prepared(t, e, "f4", map[string]string{"path": p})
	must(t, os.Remove(p))
	must(t, os.Symlink(outside, p))
	if err := k.Apply(ctx, e.host, r); err == nil {
		t.Fatal("apply followed a symlink swapped in after prepare")
	}
	assertBytes(t, outside, original(16))
	must(t, k.Recover(ctx, e.host, r))
	assertBytes(t, outside, original(16))
}

func TestCorruptRefusesNewerReceipt(t *testing.T) {
	e := newEnv(t)
	p := e.writeFile(t, "data", original(16))
	r := prepared(t, e, "f5", map[string]string{"path": p})
	r.Version = 2
	if err := (file.Corrupt{}).Recover(context.Background(), e.host, r); !errors.Is(err, bulwark.ErrNewerReceipt) {
		t.Fatalf("recover of a v2 receipt: %v, want ErrNewerReceipt", err)
	}
}

func TestCorruptLargeFile(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	e := newEnv(t)
	orig := bytes.Repeat(original(4096), 1024) // 4 MiB: several read chunks
	p := e.writeFile(t, "big", orig)
	f := e.inject(t, map[string]string{"path": p, "offset": "1048000", "length": "2MiB", "seed": "7"})
	if got := readFile(t, p); bytes.Equal(got, orig) || len(got) != len(orig) {
		t.Fatal("large file not corrupted as planned")
	}
	mustRecover(t, e.m, f.ID)
	assertBytes(t, p, orig)
}
