package fault_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// testBody is a helper body for the frame's tests: one own flag, and a Run
// that records why its context ended.
type testBody struct {
	fault.HelperArgs
	level int
	run   func(ctx context.Context, b *testBody) error
	ran   bool
	cause error
}

func (b *testBody) Flags(fs *flag.FlagSet) { fs.IntVar(&b.level, "level", 1, "") }

func (b *testBody) Check() error {
	if b.level < 1 {
		return errors.New("--level must be at least 1")
	}
	return nil
}

func (b *testBody) Run(ctx context.Context) error {
	b.ran = true
	if b.run != nil {
		if err := b.run(ctx, b); err != nil {
			return err
		}
	}
	<-ctx.Done()
	b.cause = context.Cause(ctx)
	return nil
}

func helperArgs(deadline time.Time, status string, extra ...string) []string {
	return append([]string{"--fault", "F1", "--deadline", deadline.UTC().Format(time.RFC3339Nano), "--status", status}, extra...)
}

func TestParseHelperArgs(t *testing.T) {
	dl := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	var b testBody
	if err := fault.ParseHelperArgs("test-helper", helperArgs(dl, "/st/status.json", "--level", "3"), &b); err != nil {
		t.Fatal(err)
	}
	if b.Fault != "F1" || !b.Deadline.Equal(dl) || b.Status != "/st/status.json" || b.level != 3 {
		t.Errorf("parsed %+v", b)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", helperArgs(dl, "/s", "--nope", "1"), "-nope"},
		{"no deadline", []string{"--fault", "F1", "--status", "/s"}, "--deadline"},
		{"bad deadline", []string{"--fault", "F1", "--deadline", "tomorrow", "--status", "/s"}, "--deadline"},
		{"positional", helperArgs(dl, "/s", "extra"), `unexpected "extra"`},
		{"no fault", []string{"--deadline", dl.Format(time.RFC3339), "--status", "/s"}, "--fault"},
		{"bad fault", []string{"--fault", "../x", "--deadline", dl.Format(time.RFC3339), "--status", "/s"}, "--fault"},
		{"relative status", helperArgs(dl, "s"), "--status"},
		{"no status", []string{"--fault", "F1", "--deadline", dl.Format(time.RFC3339)}, "--status"},
		{"own check", helperArgs(dl, "/s", "--level", "0"), "--level"},
		{"own flag value", helperArgs(dl, "/s", "--level", "x"), "-level"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b testBody
			err := fault.ParseHelperArgs("test-helper", tc.args, &b)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "test-helper") {
				t.Errorf("ParseHelperArgs(%q) = %v, want an error of test-helper about %s", tc.args, err, tc.want)
			}
		})
	}
}

// TestHelperMainDeadline runs a body to its deadline: it ends by itself with
// a deadline cause, and its status file is written.
func TestHelperMainDeadline(t *testing.T) {
	status := filepath.Join(t.TempDir(), "status.json")
	b := &testBody{run: func(_ context.Context, b *testBody) error {
		return b.WriteStatus(map[string]string{"state": "running", "fault": b.Fault})
	}}
	fn := fault.HelperMain("test-helper", func() fault.HelperBody { return b })
	if err := fn(context.Background(), helperArgs(time.Now().Add(300*time.Millisecond), status)); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(b.cause, fault.ErrHelperDeadline) || !strings.HasPrefix(b.cause.Error(), "deadline (") {
		t.Errorf("context ended with %v, want a deadline", b.cause)
	}
	var s map[string]string
	if err := fault.ReadStatusFile(status, &s); err != nil || s["state"] != "running" || s["fault"] != "F1" {
		t.Errorf("status %v, %v", s, err)
	}
}

func TestHelperMainRefuses(t *testing.T) {
	status := filepath.Join(t.TempDir(), "status.json")
	var b *testBody
	fn := fault.HelperMain("test-helper", func() fault.HelperBody { b = &testBody{}; return b })
	err := fn(context.Background(), helperArgs(time.Now().Add(-time.Second), status))
	if err == nil || !strings.Contains(err.Error(), "has passed") || b.ran {
		t.Errorf("past deadline: err %v, body ran %v", err, b.ran)
	}
	err = fn(context.Background(), helperArgs(time.Now().Add(time.Hour), status, "--level", "-1"))
	if err == nil || !strings.Contains(err.Error(), "--level") || b.ran {
		t.Errorf("bad flag: err %v, body ran %v", err, b.ran)
	}
	boom := errors.New("boom")
	b2 := &testBody{run: func(context.Context, *testBody) error { return boom }}
	fn = fault.HelperMain("test-helper", func() fault.HelperBody { return b2 })
	if err := fn(context.Background(), helperArgs(time.Now().Add(time.Hour), status)); !errors.Is(err, boom) {
		t.Errorf("failing body: err %v, want %v", err, boom)
	}
}

// TestHelperMainParentCancel: a caller's cancellation ends the body, and is
// not taken for the deadline.
func TestHelperMainParentCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	b := &testBody{run: func(context.Context, *testBody) error { cancel(); return nil }}
	fn := fault.HelperMain("test-helper", func() fault.HelperBody { return b })
	if err := fn(ctx, helperArgs(time.Now().Add(time.Hour), "/nonexistent/status.json")); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(b.cause, context.Canceled) || errors.Is(b.cause, fault.ErrHelperDeadline) {
		t.Errorf("context ended with %v, want context.Canceled", b.cause)
	}
}

// TestHelperFiles: the data directory is made, a stale status removed, and
// the paths agree with DataPath and HelperStatusPath.
func TestHelperFiles(t *testing.T) {
	h := &fault.Host{StateDir: t.TempDir()}
	dir, status, err := h.HelperFiles("F1")
	if err != nil {
		t.Fatal(err)
	}
	if dir != h.DataPath("F1") || status != h.HelperStatusPath("F1") || filepath.Dir(status) != dir {
		t.Errorf("HelperFiles = %q, %q; DataPath %q", dir, status, h.DataPath("F1"))
	}
	if err := fault.WriteStatusFile(status, map[string]string{"state": "exited"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.HelperFiles("F1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(status); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old status still there: %v", err)
	}
	if err := os.WriteFile(filepath.Join(h.StateDir, "data", "F2"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.HelperFiles("F2"); err == nil || !strings.Contains(err.Error(), "create helper directory") {
		t.Errorf("data directory blocked by a file: %v", err)
	}
}
