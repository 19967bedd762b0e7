package cli

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// kindView is one kind in `fault kinds --json`.
type kindView struct {
	ID        string        `json:"id"`
	Summary   string        `json:"summary"`
	SummaryZH string        `json:"summaryZh,omitempty"`
	Platforms []string      `json:"platforms"`
	Outlives  string        `json:"outlives"`
	Params    []fault.Param `json:"params"`
	Available bool          `json:"available"`
	Reason    string        `json:"reason,omitempty"`
	Notes     []string      `json:"notes,omitempty"`
}

func kindsCommand(g *globals) *cobra.Command {
	var asJSON bool
	return command{
		use: "kinds [AREA]", short: "List fault kinds, their parameters and whether this host can run them",
		args: cobra.MaximumNArgs(1),
		flags: func(c *cobra.Command) {
			c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
		},
		run: func(ctx context.Context, args []string) error {
			h, err := g.host()
			if err != nil {
				return err
			}
			area := ""
			if len(args) == 1 {
				area = args[0]
			}
			views := describeKinds(ctx, h, area)
			if asJSON {
				return writeJSON(g.env.Stdout, map[string]any{"kinds": views})
			}
			return printKinds(g.env, views)
		},
	}.cobra()
}

func describeKinds(ctx context.Context, h *fault.Host, area string) []kindView {
	views := []kindView{}
	for _, k := range fault.Kinds(area) {
		info := k.Info()
		schema, _ := fault.SchemaOf(info.NewParams())
		v := kindView{
			ID: info.ID, Summary: info.Summary, SummaryZH: info.SummaryZH,
			Platforms: info.Platforms, Outlives: string(info.Outlives), Params: schema, Available: true,
		}
		if !info.Supports(runtime.GOOS) {
			v.Available, v.Reason = false, "not supported on "+runtime.GOOS
		} else if a, ok := k.(fault.Availability); ok {
			if err := a.Available(ctx, h); err != nil {
				v.Available, v.Reason = false, err.Error()
			}
		}
		if n, ok := k.(fault.Noter); ok && v.Available {
			v.Notes = n.Notes(ctx, h)
		}
		views = append(views, v)
	}
	return views
}

func printKinds(env *Env, views []kindView) error {
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tAVAILABLE\tPARAMETERS\tSUMMARY")
	for _, v := range views {
		avail := "yes"
		if !v.Available {
			avail = "no: " + v.Reason
		} else if len(v.Notes) > 0 {
			avail = "yes (note: " + strings.Join(v.Notes, "; ") + ")"
		}
		var ps []string
		for _, p := range v.Params {
			ps = append(ps, paramUsage(p))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.ID, avail, strings.Join(ps, " "), v.Summary)
	}
	return tw.Flush()
}

func paramUsage(p fault.Param) string {
	s := "--" + p.Name + " " + strings.ToUpper(strings.ReplaceAll(p.Type, " ", "-"))
	if len(p.Enum) > 0 {
		s = "--" + p.Name + " " + strings.Join(p.Enum, "|")
	}
	if p.Type == "bool" {
		s = "--" + p.Name
	}
	if !p.Required {
		s = "[" + s + "]"
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
