package policy

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/calendar"
	"github.com/bulwarkhq/bulwark/internal/i18n"
)

// Action is the path a request came by. Every path that can change a host
// calls the same gate (DESIGN §6.8).
type Action string

// Actions.
const (
	ActionFaultInject  Action = "fault.inject"
	ActionRunStart     Action = "run.start"
	ActionRunStep      Action = "run.step"
	ActionRunResume    Action = "run.resume"
	ActionScheduleFire Action = "schedule.fire"
	ActionBatchStart   Action = "batch.start"
	ActionSurpriseFire Action = "surprise.fire"
	ActionPlanAction   Action = "plan.action"
)

// Actions lists every action the gate knows.
func Actions() []Action {
	return []Action{ActionFaultInject, ActionRunStart, ActionRunStep, ActionRunResume, ActionScheduleFire,
		ActionBatchStart, ActionSurpriseFire, ActionPlanAction}
}

// needsKind reports whether the action injects one fault and so must name
// its kind. Whole-run actions may leave Kind empty: their steps come back
// through the gate as run.step.
func (a Action) needsKind() bool { return a == ActionFaultInject || a == ActionRunStep }

func (a Action) known() bool {
	for _, k := range Actions() {
		if a == k {
			return true
		}
	}
	return false
}

// Target is one resolved host, with its server-owned environment and
// system from the inventory (never from the request).
type Target struct {
	HostID      string              `json:"hostId"`
	Environment bulwark.Environment `json:"environment"`
	System      bulwark.System      `json:"system"`
}

// Request is what the gate decides on.
type Request struct {
	Principal   bulwark.Principal `json:"principal"`
	Action      Action            `json:"action"`
	Targets     []Target          `json:"targets"`
	Kind        string            `json:"kind,omitempty"`
	Params      map[string]any    `json:"params,omitempty"`
	Start       time.Time         `json:"start"` // zero: now
	Duration    time.Duration     `json:"duration"`
	Ticket      string            `json:"ticket,omitempty"`
	DrillSHA256 string            `json:"drillSha256,omitempty"`
}

// Outcome is the gate's answer.
type Outcome string

// Outcomes.
const (
	Allow         Outcome = "allow"
	Deny          Outcome = "deny"
	NeedsApproval Outcome = "needs-approval"
)

// Reason is one catalogue message (internal/i18n) with its arguments:
// Message is the English text, Text renders any supported language.
type Reason struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Field   string   `json:"field,omitempty"` // the request field at fault: kind, params.delay, duration, start, ticket, targets
	Args    []string `json:"args,omitempty"`
}

// Text renders the reason in lang (zh-CN or en).
func (r Reason) Text(lang string) string {
	p, err := i18n.NewPrinter(lang)
	if err != nil {
		return r.Message
	}
	return p.T(r.Code, toAny(r.Args)...)
}

func newReason(code, field string, args ...string) Reason {
	return Reason{Code: code, Field: field, Args: args, Message: i18n.MustPrinter(i18n.EN).T(code, toAny(args)...)}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Requirement is an approval still needed: Count distinct people holding
// Role in Scope. One person must satisfy every requirement of a decision
// (the approver role on every selected system, DESIGN §6.5).
type Requirement struct {
	Role  bulwark.Role  `json:"role"`
	Scope bulwark.Scope `json:"scope"`
	Count int           `json:"count"`
}

// Decision is the gate's answer and its grounds, in a stable JSON form for
// the audit log.
type Decision struct {
	Outcome         Outcome               `json:"outcome"`
	Reasons         []Reason              `json:"reasons,omitempty"`   // why deny or needs-approval
	Approvers       []Requirement         `json:"approvers,omitempty"` // for needs-approval
	Notes           []Reason              `json:"notes,omitempty"`     // grounds that did not block
	Action          Action                `json:"action"`
	Principal       string                `json:"principal"`
	Kind            string                `json:"kind,omitempty"`
	ProductionClass bool                  `json:"productionClass"`
	Policies        []string              `json:"policies"`
	Start           time.Time             `json:"start"` // planned interval, UTC
	End             time.Time             `json:"end"`   // start + duration + the largest recovery margin
	Ticket          string                `json:"ticket,omitempty"`
	DrillSHA256     string                `json:"drillSha256,omitempty"`
	Calendars       []calendar.Evaluation `json:"calendars,omitempty"`
	DecidedAt       time.Time             `json:"decidedAt"`
}

// JSON returns the decision's canonical JSON: fields in declaration order,
// times in UTC.
func (d Decision) JSON() []byte {
	b, err := json.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("policy: marshal decision: %v", err)) // every field is plain data
	}
	return b
}

// Err returns the decision as a *bulwark.Error (EFORBIDDEN) when it is
// not allow, for callers that turn it into an API answer; nil otherwise.
func (d Decision) Err() error {
	if d.Outcome == Allow {
		return nil
	}
	msg := string(d.Outcome)
	for _, r := range d.Reasons {
		msg += "; " + r.Message
	}
	return bulwark.Errorf(bulwark.EFORBIDDEN, "%s", msg)
}
