package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

func TestSubmissionStore(t *testing.T) {
	ctx := context.Background()
	s := sqlite.NewSubmissionStore(MustOpenDB(t))
	at := time.Date(2026, 11, 26, 1, 2, 3, 4, time.UTC)
	sub := sqlite.Submission{ID: "s1", State: "awaiting-approval", FileName: "d.yaml", Drill: []byte("apiVersion: x\n"),
		DrillSHA256: "ab", Submitter: bulwark.Principal{ID: "u1", Name: "alice", Kind: bulwark.PrincipalUser}, SubmittedAt: at,
		Reasons: []string{"needs approval"}}
	if err := s.PutSubmission(ctx, sub); err != nil {
		t.Fatal(err)
	}
	got, err := s.Submissions(ctx, "awaiting-approval")
	if err != nil || len(got) != 1 || string(got[0].Drill) != "apiVersion: x\n" || got[0].Submitter.Name != "alice" || !got[0].SubmittedAt.Equal(at) || got[0].Reasons[0] != "needs approval" {
		t.Fatalf("got %+v, %v", got, err)
	}
	sub.State, sub.RunID = "started", "r1"
	if err := s.PutSubmission(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Submissions(ctx, "awaiting-approval"); len(got) != 0 {
		t.Fatalf("still awaiting: %+v", got)
	}
	if got, _ := s.Submissions(ctx, "started"); len(got) != 1 || got[0].RunID != "r1" {
		t.Fatalf("started: %+v", got)
	}
}
