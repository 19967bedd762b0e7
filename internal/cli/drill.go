package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/drill"
)

// drillCommand is the `drill` group. Each subcommand is one function here
// (validate, schema, and later run); add a child to the list to extend it.
func drillCommand(g *globals) *cobra.Command {
	return command{
		use:   "drill",
		short: "Validate and run drill files",
		children: []*cobra.Command{
			drillValidateCommand(g),
			drillRunCommand(g),
			drillSchemaCommand(g),
		},
	}.cobra()
}

// drillValidateOptions is what `drill validate` parses from its arguments.
type drillValidateOptions struct {
	files     []string
	forServer bool
}

func drillValidateCommand(g *globals) *cobra.Command {
	var opts drillValidateOptions
	return command{
		use:   "validate FILE...",
		short: "Check drill files without running them; exit 2 naming the file, line and field of every problem",
		args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("drill validate: name at least one drill file")
			}
			return nil
		},
		flags: func(c *cobra.Command) {
			c.Flags().BoolVar(&opts.forServer, "for-server", false, "validate for a run through the server (loopback probes need from:, argv actions need on:)")
		},
		run: func(ctx context.Context, args []string) error {
			opts.files = args
			return runDrillValidate(ctx, g.env.Stdout, g.env.Stderr, opts)
		},
	}.cobra()
}

// drillParseOptions are the options every drill command parses files with.
// Until the scenario library exists, scenario references cannot be resolved
// and are reported as warnings rather than errors.
func drillParseOptions(forServer bool) []drill.Option {
	opts := []drill.Option{drill.AllowUnknownScenarios()}
	if forServer {
		opts = append(opts, drill.ForServer())
	}
	return opts
}

// runDrillValidate prints "ok FILE" for each valid file and every problem
// of the others, one per line, then fails with exit 2 if any was invalid.
func runDrillValidate(_ context.Context, stdout, stderr io.Writer, opts drillValidateOptions) error {
	var bad int
	for _, f := range opts.files {
		d, err := drill.ParseFile(f, drillParseOptions(opts.forServer)...)
		var de *drill.Error
		switch {
		case errors.As(err, &de):
			bad++
			fmt.Fprintln(stderr, de.Error())
			continue
		case err != nil:
			bad++
			fmt.Fprintf(stderr, "%s: %v\n", f, err)
			continue
		}
		for _, w := range d.Warnings {
			fmt.Fprintf(stderr, "warning: %s (the scenario library is not available yet)\n", w)
		}
		fmt.Fprintln(stdout, "ok", f)
	}
	if bad > 0 {
		return &ExitError{Code: ExitUsage}
	}
	return nil
}

func drillSchemaCommand(g *globals) *cobra.Command {
	return command{
		use: "schema", short: "Print the drill file's JSON Schema (draft 2020-12) for editors", args: cobra.NoArgs,
		run: func(_ context.Context, _ []string) error {
			_, err := g.env.Stdout.Write(drill.JSONSchema())
			return err
		},
	}.cobra()
}
