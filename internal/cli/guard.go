package cli

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark"

	"github.com/bulwarkhq/bulwark/internal/guard"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
)

func guardCommand(g *globals) *cobra.Command {
	return command{
		use: "guard", short: "Hold this host's fault deadlines (started automatically)", hidden: true,
		args: cobra.NoArgs,
		run: func(ctx context.Context, _ []string) error {
			err := guard.Run(ctx, guard.Config{
				StateDir: g.dir(),
				Open:     func(ctx context.Context) (*hostmgr.Manager, error) { return g.openManager(ctx) },
				Logger:   slog.New(slog.NewTextHandler(g.env.Stderr, nil)),
			})
			if errors.Is(err, guard.ErrRunning) {
				return nil
			}
			return err
		},
	}.cobra()
}

// watch makes sure something outside this command recovers f at its
// deadline: the guard process, and where PID 1 is systemd a transient timer
// owned by PID 1 as well. A failure is reported but does not fail the inject:
// the fault is journaled, and the next bulwark command sweeps it.
func watch(ctx context.Context, dir string, f *bulwark.Fault, env *Env) {
	log := slog.New(slog.NewTextHandler(env.Stderr, nil))
	exe, err := os.Executable()
	if err == nil {
		err = guard.Start(exe, dir, os.Environ())
	}
	if err != nil {
		log.Warn("no guard started; expired faults are recovered by the next bulwark command", "err", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err = guard.ArmTimer(ctx, exe, dir, f.ID, time.Until(*f.ExpiresAt))
	if err != nil && !errors.Is(err, guard.ErrNoSystemd) {
		log.Warn("no systemd timer armed; the guard alone watches the deadline", "err", err)
	}
}
