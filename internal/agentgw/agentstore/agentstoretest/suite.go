// Package agentstoretest is the contract suite for agentstore.Store: one body
// of tests every implementation runs (litestream's RunWithReplicaClient
// shape).
package agentstoretest

import (
	"context"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
)

// Run runs the suite; newStore returns a fresh, empty store.
func Run(t *testing.T, newStore func(t *testing.T) agentstore.Store) {
	t.Run("JoinTokens", func(t *testing.T) { testJoinTokens(t, newStore(t)) })
	t.Run("Agents", func(t *testing.T) { testAgents(t, newStore(t)) })
}

func testJoinTokens(t *testing.T, s agentstore.Store) {
	ctx := context.Background()
	exp := time.Date(2030, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
	tok := &agentstore.JoinToken{
		ID: bulwark.NewID(), Name: "sim", Hash: agentstore.HashToken("secret"),
		Environment: "simulation", Zone: "z1", CreatedBy: "admin", CreatedAt: time.Now(), ExpiresAt: exp,
	}
	if err := s.CreateJoinToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	dup := *tok
	dup.ID = bulwark.NewID()
	if err := s.CreateJoinToken(ctx, &dup); bulwark.ErrorCode(err) != bulwark.ECONFLICT {
		t.Fatalf("duplicate hash: %v", err)
	}
	got, err := s.JoinTokenByHash(ctx, agentstore.HashToken("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != tok.ID || got.Environment != "simulation" || got.Zone != "z1" || !got.ExpiresAt.Equal(exp) || got.ExpiresAt.Location() != time.UTC || got.RevokedAt != nil {
		t.Fatalf("got %+v", got)
	}
	if _, err := s.JoinTokenByHash(ctx, agentstore.HashToken("other")); bulwark.ErrorCode(err) != bulwark.ENOTFOUND {
		t.Fatalf("unknown hash: %v", err)
	}
	if err := s.UseJoinToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.RevokeJoinToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeJoinToken(ctx, bulwark.NewID()); bulwark.ErrorCode(err) != bulwark.ENOTFOUND {
		t.Fatalf("revoke unknown: %v", err)
	}
	list, err := s.JoinTokens(ctx)
	if err != nil || len(list) != 1 || list[0].RevokedAt == nil || list[0].Uses != 1 {
		t.Fatalf("list: %v %+v", err, list)
	}
}

func testAgents(t *testing.T, s agentstore.Store) {
	ctx := context.Background()
	a := &agentstore.Agent{
		ID: bulwark.NewID(), Hostname: "h1", StateDir: "/var/lib/bulwark", InstanceID: bulwark.NewID(),
		Labels: map[string]string{"rack": "u1"}, Environment: "simulation", EnrolledAt: time.Now(),
		CertNotAfter: time.Now().Add(time.Hour),
	}
	if err := s.CreateAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAgent(ctx, a); bulwark.ErrorCode(err) != bulwark.ECONFLICT {
		t.Fatalf("duplicate agent: %v", err)
	}
	exp := time.Now().Add(time.Minute)
	a.Epoch = 7
	a.Desired = []agentstore.DesiredFault{{ID: bulwark.NewID(), Kind: "process.hang", Params: map[string]string{"pid": "1"}, Duration: bulwark.Duration(time.Minute), ExpiresAt: exp}}
	a.LastSeen = time.Now()
	if err := s.PutAgents(ctx, []*agentstore.Agent{a}); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindAgent(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Epoch != 7 || len(got.Desired) != 1 || got.Desired[0].Params["pid"] != "1" || !got.Desired[0].ExpiresAt.Equal(exp) || got.Labels["rack"] != "u1" || got.LastSeen.IsZero() {
		t.Fatalf("got %+v", got)
	}
	if byInst, err := s.FindAgentByInstance(ctx, a.InstanceID); err != nil || byInst.ID != a.ID {
		t.Fatalf("by instance: %v %+v", err, byInst)
	}
	ghost := &agentstore.Agent{ID: bulwark.NewID(), Hostname: "x", InstanceID: "i", Environment: "e"}
	if err := s.PutAgents(ctx, []*agentstore.Agent{a, ghost}); bulwark.ErrorCode(err) != bulwark.ENOTFOUND {
		t.Fatalf("put unknown agent: %v", err)
	}
	if _, err := s.FindAgent(ctx, ghost.ID); bulwark.ErrorCode(err) != bulwark.ENOTFOUND {
		t.Fatalf("find unknown: %v", err)
	}
	all, err := s.Agents(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("agents: %v %d", err, len(all))
	}
}
