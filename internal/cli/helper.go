package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// helperCommand runs a kind's helper process body: `bulwark helper NAME
// ARGS…`. Kinds start it themselves; it is not for people.
func helperCommand() *cobra.Command {
	return command{
		use: "helper NAME [ARGS...]", short: "Run a fault kind's helper process", hidden: true,
		args:  cobra.MinimumNArgs(1),
		flags: func(c *cobra.Command) { c.DisableFlagParsing = true },
		run: func(ctx context.Context, args []string) error {
			fn, err := fault.LookupHelper(args[0])
			if err != nil {
				return usagef("helper: %v", err)
			}
			return fn(ctx, args[1:])
		},
	}.cobra()
}
