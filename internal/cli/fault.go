package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark"
)

func faultCommand(g *globals) *cobra.Command {
	return command{
		use:   "fault",
		short: "Inject, list and recover faults on this host (through its agent when one runs)",
		children: []*cobra.Command{
			kindsCommand(g), injectCommand(g), listCommand(g), recoverCommand(g), sweepCommand(g),
		},
	}.cobra()
}

func listCommand(g *globals) *cobra.Command {
	var asJSON, all bool
	return command{
		use: "list", short: "List live faults (--all: also recently ended ones)", args: cobra.NoArgs,
		flags: func(c *cobra.Command) {
			c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
			c.Flags().BoolVar(&all, "all", false, "include ended faults")
		},
		run: func(ctx context.Context, _ []string) error {
			m, closeSvc, err := g.faultService(ctx)
			if err != nil {
				return err
			}
			defer closeSvc()
			if _, err := m.Sweep(ctx); err != nil {
				return err
			}
			faults, err := m.Faults(ctx, bulwark.FaultFilter{Live: !all})
			if err != nil {
				return err
			}
			return printFaults(g.env.Stdout, faults, asJSON)
		},
	}.cobra()
}

func recoverCommand(g *globals) *cobra.Command {
	var all, asJSON bool
	return command{
		use: "recover ID... | --all", short: "Recover faults now",
		flags: func(c *cobra.Command) {
			c.Flags().BoolVar(&all, "all", false, "recover every live fault on this host")
			c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
		},
		run: func(ctx context.Context, ids []string) error {
			if all == (len(ids) > 0) {
				return usagef("recover: give fault ids or --all, not both or neither")
			}
			m, closeSvc, err := g.faultService(ctx)
			if err != nil {
				return err
			}
			defer closeSvc()
			var faults []*bulwark.Fault
			if all {
				faults, err = m.RecoverAll(ctx)
			} else {
				faults, err = m.Recover(ctx, ids...)
			}
			if perr := printFaults(g.env.Stdout, faults, asJSON); err == nil {
				err = perr
			}
			return err
		},
	}.cobra()
}

func sweepCommand(g *globals) *cobra.Command {
	return command{
		use: "sweep", short: "Recover faults that have expired and retry stuck ones", args: cobra.NoArgs,
		run: func(ctx context.Context, _ []string) error {
			m, closeSvc, err := g.faultService(ctx)
			if err != nil {
				return err
			}
			defer closeSvc()
			faults, err := m.Sweep(ctx)
			if err != nil {
				return err
			}
			return printFaults(g.env.Stdout, faults, false)
		},
	}.cobra()
}

// printFaults writes faults as a table or as {"faults":[…]}.
func printFaults(w io.Writer, faults []*bulwark.Fault, asJSON bool) error {
	if asJSON {
		if faults == nil {
			faults = []*bulwark.Fault{}
		}
		return writeJSON(w, map[string]any{"faults": faults})
	}
	if len(faults) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSTATE\tEXPIRES\tPARAMS")
	for _, f := range faults {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.ID, f.Kind, stateText(f), expiresText(f), paramsText(f.Params))
	}
	return tw.Flush()
}

func stateText(f *bulwark.Fault) string {
	switch {
	case f.State == bulwark.StateStuck:
		return fmt.Sprintf("stuck (%d attempts: %s)", f.Attempts, f.Error)
	case f.EndReason != "" && f.EndReason != string(f.State):
		return fmt.Sprintf("%s (%s)", f.State, f.EndReason)
	}
	return string(f.State)
}

func expiresText(f *bulwark.Fault) string {
	if f.ExpiresAt == nil {
		return "-"
	}
	if f.State.Live() {
		return fmt.Sprintf("%s (in %s)", f.ExpiresAt.Local().Format(time.TimeOnly), time.Until(*f.ExpiresAt).Round(time.Second))
	}
	return f.ExpiresAt.Local().Format(time.TimeOnly)
}

func paramsText(p map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(p) {
		parts = append(parts, "--"+k+" "+p[k])
	}
	return strings.Join(parts, " ")
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
