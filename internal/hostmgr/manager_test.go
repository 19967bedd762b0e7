package hostmgr_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
	"github.com/bulwarkhq/bulwark/internal/journal"
)

// mustOpen opens a manager on a fresh state directory and returns it with a
// directory for markers.
func mustOpen(t *testing.T) (*hostmgr.Manager, string, string) {
	t.Helper()
	state, dir := t.TempDir(), t.TempDir()
	return reopen(t, state), state, dir
}

func reopen(t *testing.T, state string) *hostmgr.Manager {
	t.Helper()
	m, err := hostmgr.Open(context.Background(), hostmgr.Config{StateDir: state})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func spec(dir string, d time.Duration) bulwark.FaultSpec {
	return bulwark.FaultSpec{Kind: "test.mark", Params: map[string]string{"dir": dir}, Duration: bulwark.Duration(d)}
}

func markers(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestInjectRecover(t *testing.T) {
	ctx := context.Background()
	m, _, dir := mustOpen(t)
	f, err := m.Inject(ctx, spec(dir, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if f.State != bulwark.StateActive || f.ExpiresAt == nil || len(f.Evidence) == 0 {
		t.Fatalf("after inject: %+v", f)
	}
	if got := markers(t, dir); len(got) != 1 || got[0] != f.ID {
		t.Fatalf("markers = %v", got)
	}
	for range 2 { // recover is idempotent
		out, err := m.Recover(ctx, f.ID)
		if err != nil || out[0].State != bulwark.StateRecovered {
			t.Fatalf("recover: %v %+v", err, out)
		}
	}
	if got := markers(t, dir); len(got) != 0 {
		t.Fatalf("markers left: %v", got)
	}
	if _, err := m.Recover(ctx, "nope"); bulwark.ErrorCode(err) != bulwark.ENOTFOUND {
		t.Fatalf("recover unknown id: %v", err)
	}
}

func TestBadInputLeavesNothing(t *testing.T) {
	ctx := context.Background()
	m, state, dir := mustOpen(t)
	tests := []struct {
		name string
		spec bulwark.FaultSpec
		want string
	}{
		{"unknown kind", bulwark.FaultSpec{Kind: "no.such", Duration: bulwark.Duration(time.Second)}, "unknown fault kind"},
		{"unknown param", bulwark.FaultSpec{Kind: "test.mark", Params: map[string]string{"dir": dir, "bogus": "1"}, Duration: bulwark.Duration(time.Second)}, "--bogus"},
		{"missing param", bulwark.FaultSpec{Kind: "test.mark", Duration: bulwark.Duration(time.Second)}, "--dir: is required"},
		{"no duration", spec(dir, 0), "--duration"},
		{"over maximum", spec(dir, 2*time.Hour), "over the maximum"},
		{"prepare refuses", spec(filepath.Join(dir, "missing"), time.Second), "--dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Inject(ctx, tt.spec)
			var pe *fault.ParamError
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &pe) && bulwark.ErrorCode(err) != bulwark.EINVALID {
				t.Fatalf("err = %v, want invalid input mentioning %q", err, tt.want)
			}
		})
	}
	if all, _ := m.Faults(ctx, bulwark.FaultFilter{}); len(all) != 0 {
		t.Fatalf("journal has %d faults after bad input", len(all))
	}
	if b, _ := os.ReadFile(filepath.Join(state, "journal.jsonl")); len(b) != 0 {
		t.Fatalf("journal file not empty: %s", b)
	}
}

func TestVerifyFailureRecoversAndFails(t *testing.T) {
	ctx := context.Background()
	m, _, dir := mustOpen(t)
	setFail(t, failures.verify, dir)
	f, err := m.Inject(ctx, spec(dir, time.Minute))
	if err == nil || f.State != bulwark.StateFailed {
		t.Fatalf("inject with failing verify: %v %+v", err, f)
	}
	if got := markers(t, dir); len(got) != 0 {
		t.Fatalf("failed inject left %v", got)
	}
}

func TestApplyFailureRecoversAndFails(t *testing.T) {
	ctx := context.Background()
	m, _, dir := mustOpen(t)
	setFail(t, failures.apply, dir)
	f, err := m.Inject(ctx, spec(dir, time.Minute))
	if err == nil || f.State != bulwark.StateFailed || len(markers(t, dir)) != 0 {
		t.Fatalf("inject with failing apply: %v %+v %v", err, f, markers(t, dir))
	}
}

func setFail(t *testing.T, m map[string]bool, dir string) {
	failures.Lock()
	m[dir] = true
	failures.Unlock()
	t.Cleanup(func() {
		failures.Lock()
		delete(m, dir)
		failures.Unlock()
	})
}

func TestStuckRetriesWithBackoffAndBlocksResource(t *testing.T) {
	ctx := context.Background()
	m, _, dir := mustOpen(t)
	s := spec(dir, time.Minute)
	s.Params["resource"] = "file:/x"
	f, err := m.Inject(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	failures.Lock()
	failures.recover[dir] = 2
	failures.Unlock()
	out, err := m.Recover(ctx, f.ID)
	if err == nil || out[0].State != bulwark.StateStuck || out[0].Attempts != 1 {
		t.Fatalf("first recover: %v %+v", err, out[0])
	}
	if _, err := m.Inject(ctx, s); bulwark.ErrorCode(err) != bulwark.ECONFLICT {
		t.Fatalf("inject on a stuck resource: %v", err)
	}
	// The retry is not due yet (1 s backoff): the sweep leaves it alone.
	if swept, _ := m.Sweep(ctx); len(swept) != 0 {
		t.Fatalf("sweep retried before the backoff: %+v", swept)
	}
	if d, live := m.NextDeadline(); !live || d > time.Second {
		t.Fatalf("next deadline %v %v", d, live)
	}
	time.Sleep(1100 * time.Millisecond)
	swept, _ := m.Sweep(ctx) // second failure: 2 s backoff
	if len(swept) != 1 || swept[0].State != bulwark.StateStuck || swept[0].Attempts != 2 {
		t.Fatalf("second attempt: %+v", swept)
	}
	if _, err := m.RecoverAll(ctx); err != nil { // third attempt succeeds
		t.Fatal(err)
	}
	if len(markers(t, dir)) != 0 {
		t.Fatal("marker left after stuck fault recovered")
	}
}

func TestConflictingResource(t *testing.T) {
	ctx := context.Background()
	m, _, dir := mustOpen(t)
	s := spec(dir, time.Minute)
	s.Params["resource"] = "pid:1@2"
	if _, err := m.Inject(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Inject(ctx, s); bulwark.ErrorCode(err) != bulwark.ECONFLICT {
		t.Fatalf("second fault on the same resource: %v", err)
	}
}

func TestExpirySweep(t *testing.T) {
	ctx := context.Background()
	m, _, dir := mustOpen(t)
	f, err := m.Inject(ctx, spec(dir, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if swept, _ := m.Sweep(ctx); len(swept) != 0 {
		t.Fatal("swept before expiry")
	}
	time.Sleep(60 * time.Millisecond)
	swept, _ := m.Sweep(ctx)
	if len(swept) != 1 || swept[0].ID != f.ID || swept[0].State != bulwark.StateRecovered || swept[0].EndReason != "expired" {
		t.Fatalf("sweep after expiry: %+v", swept)
	}
}

func TestRecoverFromReceiptInNewManager(t *testing.T) {
	ctx := context.Background()
	m, state, dir := mustOpen(t)
	f, err := m.Inject(ctx, spec(dir, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	m2 := reopen(t, state)
	if _, err := m2.Recover(ctx, f.ID); err != nil || len(markers(t, dir)) != 0 {
		t.Fatalf("recover in a new manager: %v, markers %v", err, markers(t, dir))
	}
}

func TestLockIsExclusive(t *testing.T) {
	m, state, _ := mustOpen(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := hostmgr.Open(ctx, hostmgr.Config{StateDir: state}); err == nil {
		t.Fatal("second manager opened the same state directory")
	}
	m.Close()
	reopen(t, state)
}

func TestNewerReceiptRefused(t *testing.T) {
	ctx := context.Background()
	m, state, dir := mustOpen(t)
	f, err := m.Inject(ctx, spec(dir, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	rewrite(t, state, f.ID, func(r *journal.Record) { r.Receipt.Version = 99 })
	m2 := reopen(t, state)
	out, err := m2.Recover(ctx, f.ID)
	if !errors.Is(err, bulwark.ErrNewerReceipt) && !strings.Contains(err.Error(), "newer") || out[0].State != bulwark.StateStuck {
		t.Fatalf("recover of a newer receipt: %v %+v", err, out)
	}
	if len(markers(t, dir)) != 1 {
		t.Fatal("a newer receipt was acted on")
	}
}

func TestRebootEndsKernelFaultsAndRecoversFiles(t *testing.T) {
	ctx := context.Background()
	m, state, dir := mustOpen(t)
	f, err := m.Inject(ctx, spec(dir, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	rewrite(t, state, f.ID, func(r *journal.Record) { r.BootID = "earlier-boot" })
	m2 := reopen(t, state)
	swept, _ := m2.Sweep(ctx)
	// test.mark lives on the filesystem: a reboot does not undo it, the sweep does.
	if len(swept) != 1 || swept[0].State != bulwark.StateRecovered || swept[0].EndReason != "reboot" || len(markers(t, dir)) != 0 {
		t.Fatalf("sweep after reboot: %+v, markers %v", swept, markers(t, dir))
	}
}

// rewrite appends a changed copy of a fault's record, as a crash or an older
// boot would have left it.
func rewrite(t *testing.T, state, id string, change func(*journal.Record)) {
	t.Helper()
	j, err := journal.Open(filepath.Join(state, "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	r, ok := j.Get(id)
	if !ok {
		t.Fatalf("no record %s", id)
	}
	change(r)
	if err := j.Put(r); err != nil {
		t.Fatal(err)
	}
}

var _ = json.Marshal

func TestInjectWithCallerID(t *testing.T) {
	ctx := context.Background()
	m, _, dir := mustOpen(t)
	s := spec(dir, time.Minute)
	s.ID = bulwark.NewID()
	f, err := m.Inject(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != s.ID {
		t.Fatalf("id = %s, want the caller's %s", f.ID, s.ID)
	}
	if _, err := m.Inject(ctx, s); bulwark.ErrorCode(err) != bulwark.ECONFLICT {
		t.Fatalf("second inject with the same id: %v", err)
	}
	if _, err := m.Recover(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Inject(ctx, s); bulwark.ErrorCode(err) != bulwark.ECONFLICT {
		t.Fatalf("re-inject of an ended id: %v", err)
	}
	s.ID = "not-an-id"
	if _, err := m.Inject(ctx, s); bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Fatalf("malformed id: %v", err)
	}
}
