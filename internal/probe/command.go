package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
)

func init() {
	Register(Kind{Name: "command", NewConfig: func() Config { return &CommandConfig{} }})
}

// CommandConfig is a command probe: an allow-listed executable run without a
// shell. Argv[0] is the executable's absolute path.
type CommandConfig struct {
	Argv []string `json:"argv" yaml:"argv"`
	// ExpectExit is the exit status that counts as success (default 0).
	ExpectExit int `json:"expectExit,omitempty" yaml:"expectExit,omitempty"`
	// Timeout bounds the run; the process group is killed at the end. 0 means 2s.
	Timeout bulwark.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
}

// Validate implements Config.
func (c *CommandConfig) Validate() error {
	var errs []error
	switch {
	case len(c.Argv) == 0:
		errs = append(errs, errors.New("argv: required"))
	case !filepath.IsAbs(c.Argv[0]) || filepath.Clean(c.Argv[0]) != c.Argv[0]:
		errs = append(errs, fmt.Errorf("argv: %q must be an absolute, clean path (no PATH look-up)", c.Argv[0]))
	}
	if c.ExpectExit < 0 || c.ExpectExit > 255 {
		errs = append(errs, fmt.Errorf("expectExit: %d is not an exit status (0-255)", c.ExpectExit))
	}
	return errors.Join(errs...)
}

// Build implements Config. The executable must be on opts.AllowList now; its
// bytes are checked again before every run.
func (c *CommandConfig) Build(name string, opts Options) (Probe, error) {
	if _, ok := opts.AllowList.Sum(c.Argv[0]); !ok {
		return nil, fmt.Errorf("%w: %s is not on the allow-list", ErrNotAllowed, c.Argv[0])
	}
	return &commandProbe{name: name, cfg: *c, opts: opts}, nil
}

type commandProbe struct {
	name string
	cfg  CommandConfig
	opts Options
}

func (p *commandProbe) Name() string { return p.name }

func (p *commandProbe) Close() error { return nil }

func (p *commandProbe) Check(ctx context.Context) Result {
	timeout := p.cfg.Timeout.Std()
	if timeout == 0 {
		timeout = defaultTimeout
	}
	return timed(ctx, p.opts, timeout, func(ctx context.Context) (*float64, error) {
		return nil, p.run(ctx)
	})
}

// run checks and runs the executable once.
func (p *commandProbe) run(ctx context.Context) error {
	cmd, cleanup, err := checkedCommand(ctx, p.opts.AllowList, p.cfg.Argv)
	if err != nil {
		return err
	}
	defer cleanup()
	out := &tailBuffer{max: 512}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	code := cmd.ProcessState.ExitCode()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("run %s: %w", p.cfg.Argv[0], ctx.Err())
	case err != nil && !errors.As(err, &exitErr):
		return fmt.Errorf("run %s: %w", p.cfg.Argv[0], err)
	case code != p.cfg.ExpectExit:
		return fmt.Errorf("%s exited %d, want %d: %s", p.cfg.Argv[0], code, p.cfg.ExpectExit, out.String())
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(bytes.ToValidUTF8(t.b, []byte("?"))))
}

var (
	_ Config = (*CommandConfig)(nil)
	_ Probe  = (*commandProbe)(nil)
)
