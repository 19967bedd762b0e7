package server

import (
	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/calendar"
	"github.com/bulwarkhq/bulwark/internal/policy"
	"github.com/bulwarkhq/bulwark/internal/policy/changegate"
)

// GateConfig is where the policy gate's data comes from.
type GateConfig struct {
	PolicyFiles   []string // kind: Policy; built-in defaults cover the rest
	CalendarFiles []string // kind: Calendar
	// DefaultCalendar is used by policies that name none (default: the only
	// calendar, when exactly one is loaded).
	DefaultCalendar string
	// ChangeGateURL checks change tickets; ChangeGateNotifyURL receives run
	// notices; ChangeGateTokenFile holds a bearer token for both.
	ChangeGateURL, ChangeGateNotifyURL, ChangeGateTokenFile string
}

// buildGate loads policies and calendars (bad files are EINVALID naming
// file, line and field) and returns the gate.
func buildGate(cfg GateConfig, approvals policy.ApprovalChecker) (*policy.Gate, error) {
	var pols []*policy.Policy
	for _, f := range cfg.PolicyFiles {
		p, err := policy.ParseFile(f)
		if err != nil {
			return nil, err
		}
		pols = append(pols, p)
	}
	set, err := policy.NewSet(pols...)
	if err != nil {
		return nil, err
	}
	g := &policy.Gate{Policies: set, Calendars: map[string]*calendar.Calendar{}, DefaultCalendar: cfg.DefaultCalendar}
	for _, f := range cfg.CalendarFiles {
		c, err := calendar.ParseFile(f)
		if err != nil {
			return nil, err
		}
		name := c.File.Metadata.Name
		if _, dup := g.Calendars[name]; dup {
			return nil, bulwark.Errorf(bulwark.EINVALID, "%s: calendar %q is loaded twice", f, name)
		}
		g.Calendars[name] = c
		if len(cfg.CalendarFiles) == 1 && g.DefaultCalendar == "" {
			g.DefaultCalendar = name
		}
	}
	if cfg.ChangeGateURL != "" {
		g.ChangeGate = &changegate.Client{CheckURL: cfg.ChangeGateURL, NotifyURL: cfg.ChangeGateNotifyURL, TokenFile: cfg.ChangeGateTokenFile}
	}
	if approvals != nil {
		g.Approvals = approvals
	}
	return g, nil
}
