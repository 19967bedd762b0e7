package fault

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestHelperContextWallClock: when the wall clock passes the deadline before
// the monotonic timer fires (a suspended host, a stepped clock), the context
// ends with the wall-clock cause.
func TestHelperContextWallClock(t *testing.T) {
	deadline := time.Now().Add(time.Hour)
	var jumped atomic.Bool
	now := func() time.Time {
		if jumped.Load() {
			return deadline.Add(time.Second)
		}
		return deadline.Add(-time.Hour)
	}
	ctx, stop, err := helperContext(context.Background(), "test-helper", deadline, now)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	jumped.Store(true)
	<-ctx.Done()
	if cause := context.Cause(ctx); cause != errWallDeadline || !errors.Is(cause, ErrHelperDeadline) || cause.Error() != "deadline (wall clock)" {
		t.Errorf("context ended with %v, want %v", cause, errWallDeadline)
	}
}

// TestHelperContextMonotonic: the timer armed at the start ends the context
// even though the (fake) wall clock never reaches the deadline.
func TestHelperContextMonotonic(t *testing.T) {
	deadline := time.Now().Add(time.Hour)
	ctx, stop, err := helperContext(context.Background(), "test-helper", deadline, func() time.Time { return deadline.Add(-200 * time.Millisecond) })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	<-ctx.Done()
	if cause := context.Cause(ctx); cause != errMonotonicDeadline || cause.Error() != "deadline (monotonic timer)" {
		t.Errorf("context ended with %v, want %v", cause, errMonotonicDeadline)
	}
}

func TestHelperContextStop(t *testing.T) {
	ctx, stop, err := HelperContext(context.Background(), "test-helper", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	stop()
	<-ctx.Done()
	if cause := context.Cause(ctx); !errors.Is(cause, context.Canceled) {
		t.Errorf("stopped context's cause %v", cause)
	}
}
