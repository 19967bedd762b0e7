// Package cli is bulwark's command line. Cobra lives only here, behind the
// command type below: each command is a function of (ctx, options, output)
// and cobra's RunE does no more than fill the options.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// Exit codes (DESIGN §5, §5.1 contract 7).
const (
	ExitOK       = 0
	ExitFailed   = 1
	ExitUsage    = 2
	ExitInternal = 3
	exitSignals  = 130
)

// UsageError is bad input: the command exits 2 and prints the message, which
// names the file, line, field or parameter at fault.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// usagef returns a *UsageError with a formatted message.
func usagef(format string, args ...any) error {
	return &UsageError{fmt.Errorf(format, args...)}
}

// ExitError carries a specific exit code (a failed drill exits 1, a drill the
// platform could not run exits 3) with a message already printed or empty.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }

// Env is what a command may read from its surroundings.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// Main runs bulwark with args (without the program name) and returns the exit
// code. SIGINT and SIGTERM cancel ctx; commands that change a host still
// recover under their own context.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &Env{Stdout: stdout, Stderr: stderr, Getenv: os.Getenv}
	root := newRoot(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Err != nil {
		fmt.Fprintln(stderr, "bulwark:", message(err))
	}
	return code
}

// exitCode maps an error to the process's exit code, once.
func exitCode(err error) int {
	var ee *ExitError
	var ue *UsageError
	var pe *fault.ParamError
	switch {
	case errors.As(err, &ee):
		return ee.Code
	case errors.As(err, &ue), errors.As(err, &pe), bulwark.ErrorCode(err) == bulwark.EINVALID:
		return ExitUsage
	}
	return ExitFailed
}

// message prints a *bulwark.Error without its code prefix.
func message(err error) string {
	var be *bulwark.Error
	var pe *fault.ParamError
	if errors.As(err, &pe) {
		return pe.Error()
	}
	if errors.As(err, &be) && be.Code == bulwark.EINVALID {
		return be.Message
	}
	return err.Error()
}

// command is bulwark's own command type; newCobra adapts it.
type command struct {
	use, short, long string
	hidden           bool
	args             cobra.PositionalArgs
	flags            func(c *cobra.Command)
	run              func(ctx context.Context, args []string) error
	children         []*cobra.Command
}

func (c command) cobra() *cobra.Command {
	cc := &cobra.Command{
		Use: c.use, Short: c.short, Long: c.long, Hidden: c.hidden, Args: c.args,
		SilenceErrors: true, SilenceUsage: true,
	}
	if c.run != nil {
		cc.RunE = func(cmd *cobra.Command, args []string) error { return c.run(cmd.Context(), args) }
	}
	if c.flags != nil {
		c.flags(cc)
	}
	cc.AddCommand(c.children...)
	return cc
}

func newRoot(env *Env) *cobra.Command {
	g := &globals{env: env}
	root := command{
		use:   "bulwark",
		short: "Chaos engineering and stability drills for systems that must not fail",
		children: []*cobra.Command{
			versionCommand(env),
			demoCommand(g),
			faultCommand(g),
			drillCommand(g),
			guardCommand(g),
			helperCommand(),
			proxyCommand(g),
			auditCommand(g),
			serverCommand(g),
			haltCommand(g),
			calendarCommand(g), policyCommand(g),
			agentCommand(g),
		},
	}.cobra()
	root.PersistentFlags().StringVar(&g.stateDir, "state-dir", "", "host state directory (env BULWARK_STATE_DIR, default /var/lib/bulwark)")
	root.PersistentFlags().StringVar(&g.fileRoots, "file-roots", "", "colon-separated roots file faults are confined to (env BULWARK_FILE_ROOTS, default /tmp:/var/tmp)")
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{err} })
	return root
}

func versionCommand(env *Env) *cobra.Command {
	return command{
		use: "version", short: "Print the version", args: cobra.NoArgs,
		run: func(context.Context, []string) error {
			fmt.Fprintln(env.Stdout, "bulwark", bulwark.Version)
			return nil
		},
	}.cobra()
}
