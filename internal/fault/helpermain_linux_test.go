package fault_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// TestHelperMainSignal sends this process SIGTERM, SIGINT and SIGHUP while
// a body runs: each ends the body with a cause naming the signal, and the
// process lives on.
func TestHelperMainSignal(t *testing.T) {
	status := filepath.Join(t.TempDir(), "status.json")
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			b := &testBody{run: func(context.Context, *testBody) error {
				return syscall.Kill(os.Getpid(), sig)
			}}
			fn := fault.HelperMain("test-helper", func() fault.HelperBody { return b })
			if err := fn(context.Background(), helperArgs(time.Now().Add(time.Hour), status)); err != nil {
				t.Fatal(err)
			}
			if b.cause == nil || !strings.Contains(b.cause.Error(), sig.String()) || errors.Is(b.cause, fault.ErrHelperDeadline) {
				t.Errorf("context ended with %v, want %s", b.cause, sig)
			}
		})
	}
}
