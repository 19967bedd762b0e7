package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// injectOptions is what `fault inject` parses from its arguments. The
// kind's own parameters are only known once the kind is, so the command
// parses its flags itself, from the kind's schema.
type injectOptions struct {
	kind     string
	params   map[string]string
	duration bulwark.Duration
	asJSON   bool
	help     bool

	// Through a server (DESIGN §5): --select picks agents by label.
	server, token, ticket string
	selector              bulwark.Selector
}

func injectCommand(g *globals) *cobra.Command {
	return command{
		use:   "inject KIND [--PARAM VALUE ...] --duration D [--json]",
		short: "Inject a fault; returns once it is verified active and prints its id",
		long: "Inject a fault of KIND with the kind's parameters (see `bulwark fault kinds`).\n" +
			"Every fault needs --duration; it starts when the fault is verified active.",
		flags: func(c *cobra.Command) { c.DisableFlagParsing = true },
		run: func(ctx context.Context, args []string) error {
			opts, err := parseInject(g, args)
			if err != nil {
				return err
			}
			if opts.help {
				return injectHelp(g.env.Stdout, opts.kind)
			}
			return runInject(ctx, g, opts)
		},
	}.cobra()
}

// parseInject parses KIND and its flags. Global flags are accepted here too,
// since cobra's parsing is off for this command.
func parseInject(g *globals, args []string) (*injectOptions, error) {
	opts := &injectOptions{params: map[string]string{}}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			opts.help = true
			return opts, nil
		}
		return nil, usagef("inject: name a fault kind first (see `bulwark fault kinds`)")
	}
	opts.kind = args[0]
	k, err := fault.Lookup(opts.kind)
	if err != nil {
		return nil, err
	}
	schema, err := fault.SchemaOf(k.Info().NewParams())
	if err != nil {
		return nil, err
	}
	return opts, parseInjectFlags(g, opts, schema, args[1:])
}

func parseInjectFlags(g *globals, opts *injectOptions, schema []fault.Param, args []string) error {
	isBool := map[string]bool{"json": true, "help": true}
	for _, p := range schema {
		isBool[p.Name] = p.Type == "bool"
	}
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(args[i], "-"), "-"), "=")
		if !strings.HasPrefix(args[i], "-") || name == "" {
			return usagef("inject: unexpected argument %q (parameters are --name value)", args[i])
		}
		if !hasValue && isBool[name] {
			value, hasValue = "true", true
		}
		if !hasValue {
			if i+1 >= len(args) {
				return usagef("--%s: needs a value", name)
			}
			i++
			value = args[i]
		}
		if _, dup := opts.params[name]; dup {
			return usagef("--%s: given twice", name)
		}
		if err := setInjectFlag(g, opts, name, value); err != nil {
			return err
		}
	}
	return nil
}

func setInjectFlag(g *globals, opts *injectOptions, name, value string) error {
	var err error
	switch name {
	case "duration":
		opts.duration, err = bulwark.ParseDuration(value)
		if err != nil {
			return usagef("--duration: %v", err)
		}
	case "json":
		opts.asJSON = value == "true"
	case "h", "help":
		opts.help = true
	case "server":
		opts.server = value
	case "token":
		opts.token = value
	case "ticket":
		opts.ticket = value
	case "select":
		labels, err := bulwark.ParseLabels(value)
		if err != nil {
			return usagef("--select: %v", err)
		}
		opts.selector.Labels = labels
	case "select-mode":
		opts.selector.Mode = bulwark.SelectMode(value)
	case "state-dir":
		g.stateDir = value
	case "file-roots":
		g.fileRoots = value
	default:
		opts.params[name] = value
	}
	return nil
}

func runInject(ctx context.Context, g *globals, opts *injectOptions) error {
	if opts.duration == 0 {
		return usagef("--duration: every fault needs one (for example --duration 30s)")
	}
	if opts.server != "" || len(opts.selector.Labels) > 0 {
		return injectRemote(ctx, g, opts)
	}
	m, closeSvc, err := g.faultService(ctx)
	if err != nil {
		return err
	}
	defer closeSvc()
	f, err := m.Inject(ctx, bulwark.FaultSpec{Kind: opts.kind, Params: opts.params, Duration: opts.duration})
	if err != nil {
		return err
	}
	if opts.asJSON {
		return writeJSON(g.env.Stdout, injectView(f))
	}
	fmt.Fprintln(g.env.Stdout, f.ID)
	return nil
}

// injectView is the --json shape of DESIGN §5 / issue 2: id, kind, params,
// expiresAt, evidence.
func injectView(f *bulwark.Fault) map[string]any {
	return map[string]any{
		"id": f.ID, "kind": f.Kind, "params": f.Params, "state": f.State,
		"activeAt": f.ActiveAt, "expiresAt": f.ExpiresAt, "evidence": f.Evidence,
	}
}

func injectHelp(w io.Writer, kind string) error {
	if kind == "" {
		fmt.Fprintln(w, "usage: bulwark fault inject KIND [--PARAM VALUE ...] --duration D [--json]\nsee `bulwark fault kinds` for kinds and their parameters")
		return nil
	}
	k, err := fault.Lookup(kind)
	if err != nil {
		return err
	}
	info := k.Info()
	schema, _ := fault.SchemaOf(info.NewParams())
	fmt.Fprintf(w, "usage: bulwark fault inject %s [flags] --duration D [--json]\n\n%s\n\n", info.ID, info.Summary)
	for _, p := range schema {
		def := ""
		if p.Default != "" {
			def = " (default " + p.Default + ")"
		}
		fmt.Fprintf(w, "  %-32s %s%s\n", paramUsage(p), p.Help, def)
	}
	fmt.Fprintf(w, "  %-32s %s\n", "--duration DURATION", "how long the fault stays active, from when it is verified ("+time.Hour.String()+" at most by default)")
	return nil
}

// injectRemote asks the server to inject on the agents --select picks
// (POST /api/v1/faults); the server's policy gate, halts and blast-radius
// rules apply.
func injectRemote(ctx context.Context, g *globals, opts *injectOptions) error {
	if len(opts.selector.Labels) == 0 {
		return usagef("--select: required with --server (for example --select unit=u1)")
	}
	if opts.selector.Mode == "" {
		opts.selector.Mode = "all"
	}
	if err := opts.selector.Validate(); err != nil {
		return &UsageError{err}
	}
	c, ok, err := newAPIClient(g.env, opts.server, opts.token)
	if err != nil {
		return err
	}
	if !ok {
		return usagef("--select: needs --server (or BULWARK_SERVER): selecting hosts is the server's job")
	}
	body := map[string]any{"kind": opts.kind, "params": opts.params, "duration": opts.duration.String(), "select": opts.selector}
	if opts.ticket != "" {
		body["change"] = map[string]string{"ticket": opts.ticket}
	}
	var out struct {
		Faults []struct {
			ID, Agent, Hostname, State, Error string
			ExpiresAt                         string `json:"expiresAt"`
		} `json:"faults"`
	}
	if err := c.do(ctx, "POST", "/api/v1/faults", body, &out); err != nil {
		if bulwark.ErrorCode(err) == bulwark.EINVALID {
			return &UsageError{err}
		}
		return err
	}
	if opts.asJSON {
		return writeJSON(g.env.Stdout, out)
	}
	failed := 0
	for _, f := range out.Faults {
		fmt.Fprintf(g.env.Stdout, "%s\t%s\t%s\t%s\n", f.ID, f.Hostname, f.State, f.Error)
		if f.State != string(bulwark.StateActive) {
			failed++
		}
	}
	if failed > 0 {
		return &ExitError{Code: 1, Err: fmt.Errorf("%d of %d faults did not become active", failed, len(out.Faults))}
	}
	return nil
}
