// Package approvaltest is the contract suite every approval.Store must
// pass, run by each implementation's own test with a constructor for a
// fresh store:
//
//	func TestApprovalStore(t *testing.T) {
//		approvaltest.Run(t, func(t *testing.T) approval.Store {
//			return sqlite.NewApprovalStore(MustOpenDB(t))
//		})
//	}
package approvaltest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/approval"
)

// NewStore returns an empty store for one test.
type NewStore func(t *testing.T) approval.Store

// Run runs the suite; each subtest gets a fresh store.
func Run(t *testing.T, newStore NewStore) {
	t.Helper()
	t.Run("CreateAndGet", func(t *testing.T) { testCreate(t, newStore(t)) })
	t.Run("Refuses", func(t *testing.T) { testRefuses(t, newStore(t)) })
	t.Run("Find", func(t *testing.T) { testFind(t, newStore(t)) })
}

// zone is a fixed non-UTC zone: times must come back in UTC, same instant.
var zone = time.FixedZone("CST", 8*3600)

var (
	shaA = strings.Repeat("a1", 32)
	shaB = strings.Repeat("b2", 32)
	from = time.Date(2026, 3, 3, 9, 0, 0, 123456789, zone)
)

// New returns a valid approval by bob for alice's run; mod edits it.
func New(mod func(*approval.Approval)) *approval.Approval {
	a := &approval.Approval{DrillSHA256: shaA, Environment: "production", Ticket: "CHG-1",
		ValidFrom: from, ValidUntil: from.Add(4 * time.Hour),
		Approver:  bulwark.Principal{ID: "u-bob", Name: "bob", Kind: bulwark.PrincipalUser, TokenID: "tok-1"},
		Submitter: "u-alice"}
	if mod != nil {
		mod(a)
	}
	return a
}

func testCreate(t *testing.T, s approval.Store) {
	ctx := context.Background()
	a := New(nil)
	if err := s.CreateApproval(ctx, a); err != nil {
		t.Fatal(err)
	}
	if a.ID == "" || a.CreatedAt.IsZero() || a.CreatedAt.Location() != time.UTC {
		t.Fatalf("create did not set ID and a UTC CreatedAt: %+v", a)
	}
	got, err := s.Approval(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.DrillSHA256 != a.DrillSHA256 || got.Environment != a.Environment || got.Ticket != a.Ticket ||
		got.Approver != a.Approver || got.Submitter != a.Submitter {
		t.Errorf("got %+v, want %+v", got, a)
	}
	for name, pair := range map[string][2]time.Time{"validFrom": {got.ValidFrom, from}, "validUntil": {got.ValidUntil, from.Add(4 * time.Hour)},
		"createdAt": {got.CreatedAt, a.CreatedAt}} {
		if !pair[0].Equal(pair[1]) || pair[0].Location() != time.UTC {
			t.Errorf("%s = %v, want %v in UTC", name, pair[0], pair[1])
		}
	}
	if _, err := s.Approval(ctx, "nope"); bulwark.ErrorCode(err) != bulwark.ENOTFOUND {
		t.Errorf("missing approval: %v", err)
	}
	dup := New(func(b *approval.Approval) { b.ID = a.ID })
	if err := s.CreateApproval(ctx, dup); bulwark.ErrorCode(err) != bulwark.ECONFLICT {
		t.Errorf("duplicate id: %v", err)
	}
}

func testRefuses(t *testing.T, s approval.Store) {
	ctx := context.Background()
	for name, mod := range map[string]func(*approval.Approval){
		"token approver": func(a *approval.Approval) { a.Approver.Kind = bulwark.PrincipalAccount },
		"self approval":  func(a *approval.Approval) { a.Submitter = "u-bob" },
		"bad sha":        func(a *approval.Approval) { a.DrillSHA256 = "x" },
		"empty window":   func(a *approval.Approval) { a.ValidUntil = a.ValidFrom },
	} {
		if err := s.CreateApproval(ctx, New(mod)); bulwark.ErrorCode(err) != bulwark.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	list, err := s.FindApprovals(ctx, approval.Filter{Ticket: "CHG-1"})
	if err != nil || len(list) != 0 {
		t.Errorf("refused approvals were stored: %v %v", list, err)
	}
}

func testFind(t *testing.T, s approval.Store) {
	ctx := context.Background()
	mk := func(mod func(*approval.Approval)) string {
		a := New(mod)
		if err := s.CreateApproval(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	first := mk(nil)
	second := mk(func(a *approval.Approval) { a.Approver.ID = "u-carol" })
	mk(func(a *approval.Approval) { a.DrillSHA256 = shaB })
	mk(func(a *approval.Approval) { a.Environment = "dr" })
	mk(func(a *approval.Approval) { a.Ticket = "CHG-2" })
	noTicket := mk(func(a *approval.Approval) { a.Ticket = "" })

	ids := func(f approval.Filter) string {
		list, err := s.FindApprovals(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range list {
			out = append(out, a.ID)
		}
		return strings.Join(out, ",")
	}
	if got, want := ids(approval.Filter{DrillSHA256: shaA, Environment: "production", Ticket: "CHG-1"}), first+","+second; got != want {
		t.Errorf("exact binding: %s, want %s", got, want)
	}
	if got, want := ids(approval.Filter{DrillSHA256: shaA, Environment: "production"}), noTicket; got != want {
		t.Errorf("no ticket matches only approvals without one: %s, want %s", got, want)
	}
	if got := ids(approval.Filter{DrillSHA256: shaA, Environment: "production", Ticket: "CHG-1", Limit: 1}); got != first {
		t.Errorf("limit 1: %s, want %s (oldest first)", got, first)
	}
	if got := ids(approval.Filter{DrillSHA256: shaB, Environment: "dr", Ticket: "CHG-1"}); got != "" {
		t.Errorf("no such binding: %s", got)
	}
}
