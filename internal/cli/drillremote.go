package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/drill"
)

// remoteRun is the server's view of a submitted run.
type remoteRun struct {
	Submission struct {
		ID        string   `json:"id"`
		State     string   `json:"state"`
		RunID     string   `json:"runId"`
		Approvers []string `json:"approvers"`
		Reasons   []string `json:"reasons"`
		Hosts     []string `json:"hosts"`
	} `json:"submission"`
	Run *bulwark.Run `json:"run"`
}

// runDrillRemote submits the drill to the server, which plans it against
// its agents and asks the policy gate; it then follows the run (through an
// approval wait if production-class) and exits by the verdict (contract 7).
// The drill is checked locally first, so that bad input is exit 2 with the
// file's line and column before anything reaches the server.
func runDrillRemote(ctx context.Context, g *globals, opts drillRunOptions) error {
	raw, err := os.ReadFile(opts.file)
	if err != nil {
		return usagef("%s: %v", opts.file, err)
	}
	d, err := drill.Parse(opts.file, raw, drillParseOptions(false)...)
	if err != nil {
		return &UsageError{err}
	}
	if err := d.CheckRemote(opts.file); err != nil {
		return &UsageError{err}
	}
	c, _, err := newAPIClient(g.env, opts.server, opts.token)
	if err != nil {
		return err
	}
	var rr remoteRun
	if err := c.do(ctx, "POST", "/api/v1/runs?name="+url.QueryEscape(filepath.Base(opts.file)), raw, &rr); err != nil {
		if bulwark.ErrorCode(err) == bulwark.EINVALID {
			return &UsageError{err}
		}
		return err
	}
	id := rr.Submission.ID
	fmt.Fprintf(g.env.Stdout, "submitted %s on %s\n", id, strings.Join(rr.Submission.Hosts, ", "))
	announced := ""
	for {
		switch {
		case rr.Submission.State == "refused":
			return &ExitError{Code: 1, Err: fmt.Errorf("refused: %s", strings.Join(rr.Submission.Reasons, "; "))}
		case rr.Submission.State == "awaiting-approval" && announced != "approval":
			fmt.Fprintf(g.env.Stdout, "waiting for approval by %s (%s)\n  approve with: POST /api/v1/runs/%s/approve\n",
				strings.Join(rr.Submission.Approvers, ", "), strings.Join(rr.Submission.Reasons, "; "), id)
			announced = "approval"
		case rr.Run != nil && announced != "run":
			fmt.Fprintf(g.env.Stdout, "run %s started\n", rr.Run.ID)
			announced = "run"
		}
		if rr.Run != nil && rr.Run.State == bulwark.RunFinished {
			return finishRemote(ctx, g, c, rr.Run, opts)
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(g.env.Stderr, "stopped following run %s; it goes on on the server (halt it with bulwark halt --server)\n", id)
			return &ExitError{Code: 1, Err: ctx.Err()}
		case <-time.After(time.Second):
		}
		if err := c.do(ctx, "GET", "/api/v1/runs/"+id, nil, &rr); err != nil && ctx.Err() == nil {
			return err
		}
	}
}

// finishRemote prints the verdict, fetches the reports into --report-dir
// (and --junit) and exits by the verdict.
func finishRemote(ctx context.Context, g *globals, c *apiClient, run *bulwark.Run, opts drillRunOptions) error {
	fmt.Fprintf(g.env.Stdout, "verdict %s", run.Verdict)
	if run.Reason != "" {
		fmt.Fprintf(g.env.Stdout, ": %s", run.Reason)
	}
	fmt.Fprintln(g.env.Stdout)
	if err := os.MkdirAll(opts.reportDir, 0o755); err != nil {
		return &ExitError{Code: ExitInternal, Err: err}
	}
	fetch := func(format, lang, path string) {
		q := url.Values{"format": {format}}
		if lang != "" {
			q.Set("lang", lang)
		}
		body, err := c.raw(ctx, "/api/v1/runs/"+run.ID+"/report?"+q.Encode())
		if err == nil {
			err = os.WriteFile(path, body, 0o644)
		}
		if err != nil {
			fmt.Fprintf(g.env.Stderr, "warning: report %s %s: %v\n", format, lang, err)
			return
		}
		fmt.Fprintf(g.env.Stdout, "report %-5s %s\n", format, path)
	}
	for _, lang := range opts.langs {
		for _, f := range []string{"html", "md", "json"} {
			fetch(f, lang, filepath.Join(opts.reportDir, fmt.Sprintf("%s.%s.%s", run.ID, lang, f)))
		}
	}
	if opts.junit != "" {
		fetch("junit", "", opts.junit)
	}
	if code := run.Verdict.ExitCode(); code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}
