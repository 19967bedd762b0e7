package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/calendar"
	"github.com/bulwarkhq/bulwark/internal/policy"
	"github.com/bulwarkhq/bulwark/internal/yamldoc"
)

// expiryWarning is how close to validThrough `calendar check` warns that
// next year's calendar is due.
const expiryWarning = 45 * 24 * time.Hour

// calendarCommand is the `calendar` group: check files and show what an
// interval touches.
func calendarCommand(g *globals) *cobra.Command {
	return command{
		use:   "calendar",
		short: "Check trading calendars and show what a planned interval touches",
		children: []*cobra.Command{
			calendarCheckCommand(g),
			calendarEvalCommand(g),
		},
	}.cobra()
}

func calendarCheckCommand(g *globals) *cobra.Command {
	return command{
		use:   "check FILE...",
		short: "Check calendar files; exit 2 naming the file, line and field of every problem",
		args:  needFiles("calendar check"),
		run: func(_ context.Context, args []string) error {
			return runCalendarCheck(g.env.Stdout, g.env.Stderr, args, time.Now())
		},
	}.cobra()
}

func needFiles(what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usagef("%s: name at least one file", what)
		}
		return nil
	}
}

// runCalendarCheck prints "ok FILE" for each valid calendar, warns when one
// expires soon or has expired, and fails with exit 2 if any was invalid.
func runCalendarCheck(stdout, stderr io.Writer, files []string, now time.Time) error {
	var bad int
	for _, f := range files {
		c, err := calendar.ParseFile(f)
		if err != nil {
			bad++
			printProblems(stderr, f, err)
			continue
		}
		vt := c.ValidThrough()
		fmt.Fprintf(stdout, "ok %s (%s, valid through %s)\n", f, c.Name(), vt.Format(time.RFC3339))
		switch {
		case now.After(vt):
			fmt.Fprintf(stderr, "%s: warning: expired on %s: every production-class fault is blackout until next year's calendar is loaded\n", f, vt.Format(time.DateOnly))
		case vt.Sub(now) < expiryWarning:
			fmt.Fprintf(stderr, "%s: warning: expires on %s: load next year's closed dates (the SSE/SZSE notice) before then\n", f, vt.Format(time.DateOnly))
		}
	}
	if bad > 0 {
		return &ExitError{Code: ExitUsage}
	}
	return nil
}

func printProblems(w io.Writer, file string, err error) {
	var ye *yamldoc.Error
	if errors.As(err, &ye) {
		fmt.Fprintln(w, ye.Error())
		return
	}
	fmt.Fprintf(w, "%s: %v\n", file, err)
}

type calendarEvalOptions struct {
	start    string
	duration time.Duration
	json     bool
}

func calendarEvalCommand(g *globals) *cobra.Command {
	var opts calendarEvalOptions
	return command{
		use:   "eval FILE --start TIME [--duration D]",
		short: "Show the sessions and windows an interval touches",
		args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("calendar eval: name one calendar file")
			}
			return nil
		},
		flags: func(c *cobra.Command) {
			c.Flags().StringVar(&opts.start, "start", "", "start of the interval, RFC 3339 (2026-03-03T10:00:00+08:00)")
			c.Flags().DurationVar(&opts.duration, "duration", 0, "length of the interval (0: the instant)")
			c.Flags().BoolVar(&opts.json, "json", false, "print the evaluation as JSON")
		},
		run: func(_ context.Context, args []string) error {
			return runCalendarEval(g.env.Stdout, g.env.Stderr, args[0], opts)
		},
	}.cobra()
}

func runCalendarEval(stdout, stderr io.Writer, file string, opts calendarEvalOptions) error {
	start, err := time.Parse(time.RFC3339, opts.start)
	if err != nil {
		return usagef("calendar eval: --start %q is not an RFC 3339 time (2026-03-03T10:00:00+08:00)", opts.start)
	}
	if opts.duration < 0 {
		return usagef("calendar eval: --duration must not be negative")
	}
	c, err := calendar.ParseFile(file)
	if err != nil {
		printProblems(stderr, file, err)
		return &ExitError{Code: ExitUsage}
	}
	ev := c.Evaluate(start, start.Add(opts.duration))
	if opts.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ev)
	}
	for _, t := range ev.Touches {
		fmt.Fprintf(stdout, "%-8s %-16s day %s  %s – %s\n", t.Type, t.Name, t.Day, t.Start.Format("2006-01-02 15:04"), t.End.Format("2006-01-02 15:04 MST"))
	}
	if ev.Outside {
		fmt.Fprintln(stdout, "outside  (part of the interval is outside every session and window)")
	}
	if ev.Expired {
		fmt.Fprintf(stdout, "expired  (after validThrough %s: blackout for production-class faults)\n", ev.ValidThrough.Format(time.RFC3339))
	}
	return nil
}

// policyCommand is the `policy` group.
func policyCommand(g *globals) *cobra.Command {
	return command{
		use:      "policy",
		short:    "Check policy files",
		children: []*cobra.Command{policyCheckCommand(g)},
	}.cobra()
}

type policyCheckOptions struct {
	calendars       []string
	defaultCalendar string
}

func policyCheckCommand(g *globals) *cobra.Command {
	var opts policyCheckOptions
	return command{
		use:   "check FILE... [--calendar FILE]...",
		short: "Check policy files together with the calendars they use; exit 2 on any problem",
		args:  needFiles("policy check"),
		flags: func(c *cobra.Command) {
			c.Flags().StringArrayVar(&opts.calendars, "calendar", nil, "calendar file the policies may use (repeatable)")
			c.Flags().StringVar(&opts.defaultCalendar, "default-calendar", "", "calendar name for policies that name none")
		},
		run: func(_ context.Context, args []string) error {
			return runPolicyCheck(g.env.Stdout, g.env.Stderr, args, opts)
		},
	}.cobra()
}

func runPolicyCheck(stdout, stderr io.Writer, files []string, opts policyCheckOptions) error {
	var bad int
	gate := &policy.Gate{Calendars: map[string]*calendar.Calendar{}, DefaultCalendar: opts.defaultCalendar}
	for _, f := range opts.calendars {
		c, err := calendar.ParseFile(f)
		if err != nil {
			bad++
			printProblems(stderr, f, err)
			continue
		}
		gate.Calendars[c.Name()] = c
	}
	var ps []*policy.Policy
	for _, f := range files {
		p, err := policy.ParseFile(f)
		if err != nil {
			bad++
			printProblems(stderr, f, err)
			continue
		}
		ps = append(ps, p)
	}
	if bad > 0 {
		return &ExitError{Code: ExitUsage}
	}
	set, err := policy.NewSet(ps...)
	if err != nil {
		return &UsageError{err}
	}
	gate.Policies = set
	if err := gate.Check(); err != nil {
		return &UsageError{err}
	}
	for _, f := range files {
		fmt.Fprintf(stdout, "ok %s\n", f)
	}
	return nil
}
