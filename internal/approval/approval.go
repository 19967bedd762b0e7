// Package approval holds approvals of production-class runs (DESIGN §6.5)
// and the rules that decide whether they are enough.
//
// An Approval binds a drill file's SHA-256, an environment, a change ticket
// and a validity window to the person who approved and the submitter they
// approved for. Approvals are never edited: any change of the drill file,
// the environment or the ticket simply stops matching, so the old approval
// no longer counts. Rules.Satisfied counts the distinct approvers who are
// persons (not tokens), are not the submitter (nor the owner of the
// submitting account), hold the approver role on every selected system
// (through RoleChecker, implemented by the auth package) and whose approval
// is valid at the run's start. Checker plugs that into the policy gate.
package approval

import (
	"context"
	"regexp"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// Approval is one person's approval of one drill file for one environment
// and ticket, valid from ValidFrom to ValidUntil.
type Approval struct {
	ID          string            `json:"id"`
	DrillSHA256 string            `json:"drillSha256"`
	Environment string            `json:"environment"`
	Ticket      string            `json:"ticket"`
	ValidFrom   time.Time         `json:"validFrom"`
	ValidUntil  time.Time         `json:"validUntil"`
	Approver    bulwark.Principal `json:"approver"`
	Submitter   string            `json:"submitter"` // principal id of who submitted the run
	CreatedAt   time.Time         `json:"createdAt"`
}

// MaxValidity bounds an approval's window.
const MaxValidity = 7 * 24 * time.Hour

var sha256Pattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{64}$`) })

// Validate checks an approval before it is stored. Rules the store cannot
// see (the approver's roles) are checked by Rules.
func (a *Approval) Validate() error {
	switch {
	case !sha256Pattern().MatchString(a.DrillSHA256):
		return bulwark.Errorf(bulwark.EINVALID, "approval: drillSha256 must be 64 lower-case hex digits, not %q", a.DrillSHA256)
	case a.Environment == "":
		return bulwark.Errorf(bulwark.EINVALID, "approval: environment is required")
	case a.Submitter == "":
		return bulwark.Errorf(bulwark.EINVALID, "approval: submitter is required")
	case a.Approver.ID == "":
		return bulwark.Errorf(bulwark.EINVALID, "approval: approver is required")
	case !a.Approver.IsPerson():
		return bulwark.Errorf(bulwark.EINVALID, "approval: approver %s is a %s, not a person: approvals need a person signed in", a.Approver.ID, a.Approver.Kind)
	case a.Approver.ID == a.Submitter:
		return bulwark.Errorf(bulwark.EINVALID, "approval: %s submitted this run and cannot approve it", a.Approver.ID)
	case a.ValidFrom.IsZero() || a.ValidUntil.IsZero():
		return bulwark.Errorf(bulwark.EINVALID, "approval: validFrom and validUntil are required")
	case !a.ValidUntil.After(a.ValidFrom):
		return bulwark.Errorf(bulwark.EINVALID, "approval: validUntil must be after validFrom")
	case a.ValidUntil.Sub(a.ValidFrom) > MaxValidity:
		return bulwark.Errorf(bulwark.EINVALID, "approval: valid for at most %s", MaxValidity)
	}
	return nil
}

// Filter selects approvals by their binding. Empty fields match anything
// except Ticket, which always matches exactly (an approval without a
// ticket matches only a run without one).
type Filter struct {
	DrillSHA256 string
	Environment string
	Ticket      string
	Limit       int // 0 means 100
}

// Store keeps approvals. Approvals are appended, never updated or deleted.
type Store interface {
	// CreateApproval validates and stores a; it sets ID (a UUIDv7) when
	// empty and CreatedAt to the store's clock.
	CreateApproval(ctx context.Context, a *Approval) error
	// Approval returns one approval, or ENOTFOUND.
	Approval(ctx context.Context, id string) (*Approval, error)
	// FindApprovals returns approvals matching f, oldest first.
	FindApprovals(ctx context.Context, f Filter) ([]*Approval, error)
}

// RoleChecker says whether a principal holds a role on a resource. The
// auth package implements it.
type RoleChecker interface {
	HasRole(ctx context.Context, principalID string, role bulwark.Role, res bulwark.Resource) (bool, error)
}
