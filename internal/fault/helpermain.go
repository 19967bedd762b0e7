package fault

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ErrHelperDeadline is the cause of a helper context that ended at its
// absolute deadline. The cause itself says which clock saw it first: it
// reads "deadline (monotonic timer)" or "deadline (wall clock)"; both match
// errors.Is(err, ErrHelperDeadline).
var ErrHelperDeadline = errors.New("deadline")

var (
	errMonotonicDeadline = fmt.Errorf("%w (monotonic timer)", ErrHelperDeadline)
	errWallDeadline      = fmt.Errorf("%w (wall clock)", ErrHelperDeadline)
)

// helperWallCheck is how often a helper compares the wall clock with its
// deadline. The monotonic timer does not advance while the host is
// suspended; the wall clock does.
const helperWallCheck = 100 * time.Millisecond

// HelperArgs are the flags every helper takes: `--fault ID --deadline T
// --status FILE`. A helper's own flags type embeds it, which gives it the
// Common method of HelperBody.
type HelperArgs struct {
	// Fault is the id of the fault the helper holds.
	Fault string
	// Deadline is when the helper exits by itself, whatever else happens.
	Deadline time.Time
	// Status is the absolute path of the helper's status file.
	Status string

	name string // the helper's name, for messages
}

// Common returns a itself, for HelperMain.
func (a *HelperArgs) Common() *HelperArgs { return a }

// WriteStatus replaces the status file with v as JSON, atomically. A failure
// is also written to stderr (the helper's log): a helper keeps its effect
// when it cannot report it, and the kind's Status notices a stale file.
func (a *HelperArgs) WriteStatus(v any) error {
	err := WriteStatusFile(a.Status, v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", a.name, err)
	}
	return err
}

// HelperBody is a helper process's own part, run by HelperMain. It is
// usually a pointer to a struct that embeds HelperArgs and holds the
// helper's own flags.
type HelperBody interface {
	// Common returns where the common flags are parsed to.
	Common() *HelperArgs
	// Flags declares the helper's own flags on fs.
	Flags(fs *flag.FlagSet)
	// Check validates the parsed flags; the common ones are checked by
	// then. Its error is shown after "parse NAME arguments: ".
	Check() error
	// Run holds the effect until ctx ends: at the deadline (by the
	// monotonic timer or the wall clock, whichever is first, with an
	// ErrHelperDeadline cause), on SIGTERM, SIGINT or SIGHUP (a cause naming
	// the signal), or when the caller's context ends. It releases the
	// effect, writes its last status and returns nil; an error means the
	// helper failed.
	Run(ctx context.Context) error
}

// HelperMain returns the entry point of a helper named name, to give to
// RegisterHelper: it parses the arguments into a fresh body (ParseHelperArgs),
// refuses a deadline already past, and runs the body with the context of
// HelperContext.
func HelperMain(name string, newBody func() HelperBody) HelperFunc {
	return func(ctx context.Context, args []string) error {
		b := newBody()
		if err := ParseHelperArgs(name, args, b); err != nil {
			return err
		}
		ctx, stop, err := HelperContext(ctx, name, b.Common().Deadline)
		if err != nil {
			return err
		}
		defer stop()
		return b.Run(ctx)
	}
}

// ParseHelperArgs parses args into b: the common flags (--fault, --deadline
// in RFC 3339, --status) and those b declares. It refuses unknown flags,
// positional arguments, a fault id that cannot name a directory or an
// argument, a relative status path, and whatever b.Check refuses.
func ParseHelperArgs(name string, args []string, b HelperBody) error {
	a := b.Common()
	a.name = name
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&a.Fault, "fault", "", "")
	deadline := fs.String("deadline", "", "")
	fs.StringVar(&a.Status, "status", "", "")
	b.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("parse %s arguments: %w", name, err)
	}
	var err error
	if a.Deadline, err = time.Parse(time.RFC3339Nano, *deadline); err != nil {
		return fmt.Errorf("parse %s --deadline: %w", name, err)
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("parse %s arguments: unexpected %q", name, fs.Arg(0))
	case !ValidFaultID(a.Fault):
		return fmt.Errorf("parse %s arguments: bad --fault %q", name, a.Fault)
	case !filepath.IsAbs(a.Status):
		return fmt.Errorf("parse %s arguments: --status %q is not an absolute path", name, a.Status)
	}
	if err := b.Check(); err != nil {
		return fmt.Errorf("parse %s arguments: %w", name, err)
	}
	return nil
}

// ValidFaultID reports whether id can name a directory and a command-line
// argument safely.
func ValidFaultID(id string) bool {
	return id != "" && id != "." && id != ".." && !strings.ContainsAny(id, "/\\\x00 ")
}

// HelperContext returns a context that ends at deadline, by a monotonic
// timer armed now or by the wall clock checked every 100 ms, whichever is
// first (cause ErrHelperDeadline), or on SIGTERM, SIGINT or SIGHUP (cause
// naming the signal), or with parent. The helper thus exits by itself at its
// absolute deadline even when its parent was killed. stop releases the timer
// and the signals. A deadline already past is an error.
func HelperContext(parent context.Context, name string, deadline time.Time) (ctx context.Context, stop func(), err error) {
	return helperContext(parent, name, deadline, time.Now)
}

func helperContext(parent context.Context, name string, deadline time.Time, now func() time.Time) (context.Context, func(), error) {
	left := deadline.Sub(now()) // wall clock, once; the timer below is monotonic
	if left <= 0 {
		return nil, nil, fmt.Errorf("%s: deadline %s has passed", name, deadline.Format(time.RFC3339Nano))
	}
	sigCtx, stopSignals := signal.NotifyContext(parent, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	timed, cancelTimer := context.WithTimeoutCause(sigCtx, left, errMonotonicDeadline)
	ctx, cancel := context.WithCancelCause(timed)
	go func() {
		t := time.NewTicker(helperWallCheck)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if !now().Before(deadline) {
					cancel(errWallDeadline)
					return
				}
			}
		}
	}()
	return ctx, func() {
		cancel(context.Canceled)
		cancelTimer()
		stopSignals()
	}, nil
}
