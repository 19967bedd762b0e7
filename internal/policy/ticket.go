package policy

import (
	"context"
	"slices"
	"time"
)

// ChangeGate is the firm's change-management system (DESIGN §6.8): it says
// whether a change ticket is approved for these hosts in this window, and
// is told when a drill starts, ends and what it found. The HTTP adapter is
// internal/policy/changegate.
type ChangeGate interface {
	// Check asks about a ticket. An error means the gate could not answer;
	// the policy gate then denies (fails closed).
	Check(ctx context.Context, q TicketQuery) (TicketAnswer, error)
	// Notify tells the change system about a drill's progress.
	Notify(ctx context.Context, n Notice) error
}

// TicketQuery is what the change gate is asked.
type TicketQuery struct {
	Ticket      string    `json:"ticket"`
	Hosts       []string  `json:"hosts"`
	Systems     []string  `json:"systems"`
	Environment string    `json:"environment"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
}

// TicketAnswer is the change gate's answer. Hosts lists the hosts the
// ticket covers; an empty list covers none.
type TicketAnswer struct {
	Approved    bool      `json:"approved"`
	WindowStart time.Time `json:"windowStart"`
	WindowEnd   time.Time `json:"windowEnd"`
	Hosts       []string  `json:"hosts"`
}

// Notice events.
const (
	NoticeStart   = "start"
	NoticeEnd     = "end"
	NoticeVerdict = "verdict"
	NoticeReport  = "report"
)

// Notice tells the change system about a drill under a ticket.
type Notice struct {
	Ticket    string    `json:"ticket"`
	Event     string    `json:"event"` // start | end | verdict | report
	RunID     string    `json:"runId,omitempty"`
	Verdict   string    `json:"verdict,omitempty"`
	ReportURL string    `json:"reportUrl,omitempty"`
	Hosts     []string  `json:"hosts,omitempty"`
	Systems   []string  `json:"systems,omitempty"`
	Time      time.Time `json:"time"`
}

// judgeTicket turns the change gate's answer into deny reasons: approved,
// inside its window (the whole planned interval), covering every host.
func judgeTicket(q TicketQuery, a TicketAnswer) []Reason {
	if !a.Approved {
		return []Reason{newReason("policy.ticket.notApproved", "ticket", q.Ticket)}
	}
	var out []Reason
	if a.WindowStart.IsZero() || a.WindowEnd.IsZero() || q.Start.Before(a.WindowStart) || q.End.After(a.WindowEnd) {
		out = append(out, newReason("policy.ticket.outsideWindow", "start", stamp(q.Start), stamp(q.End), q.Ticket,
			stamp(a.WindowStart), stamp(a.WindowEnd)))
	}
	for _, h := range q.Hosts {
		if !slices.Contains(a.Hosts, h) {
			out = append(out, newReason("policy.ticket.hostNotCovered", "targets", h, q.Ticket))
		}
	}
	return out
}

// stamp formats an instant for a reason: RFC 3339 in UTC.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
