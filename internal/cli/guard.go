package cli

import (
	"context"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

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
			if err == guard.ErrRunning {
				return nil
			}
			return err
		},
	}.cobra()
}

// startGuard makes sure a guard watches dir's deadlines. A failure to start
// one is reported but does not fail the inject: the fault is journaled and
// the next bulwark command, and the systemd timer where there is one, sweep it.
func startGuard(dir string, env *Env) {
	exe, err := os.Executable()
	if err == nil {
		err = guard.Start(exe, dir, os.Environ())
	}
	if err != nil {
		slog.New(slog.NewTextHandler(env.Stderr, nil)).Warn("no guard started; expired faults are recovered by the next bulwark command", "err", err)
	}
}
