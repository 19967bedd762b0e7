package auth

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
)

func TestLastKnownFallsBackOnlyForStoreFailuresWithinTheGrace(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	l := newLastKnown(time.Hour, func() time.Time { return now }, slog.New(slog.DiscardHandler))
	alice := bulwark.Principal{ID: "u1", Name: "alice", Kind: bulwark.PrincipalUser}
	ok := func() (bulwark.Principal, error) { return alice, nil }
	down := func() (bulwark.Principal, error) { return bulwark.Principal{}, errors.New("database is locked") }
	revoked := func() (bulwark.Principal, error) {
		return bulwark.Principal{}, bulwark.Errorf(bulwark.EUNAUTHORIZED, "token revoked")
	}
	if _, err := l.principal("k", down); err == nil {
		t.Fatal("a credential never seen resolved while the store is down")
	}
	if p, err := l.principal("k", ok); err != nil || p != alice {
		t.Fatalf("store up: %v %v", p, err)
	}
	now = now.Add(59 * time.Minute)
	if p, err := l.principal("k", down); err != nil || p != alice {
		t.Fatalf("store down within the grace: %v %v", p, err)
	}
	now = now.Add(2 * time.Minute)
	if _, err := l.principal("k", down); err == nil {
		t.Fatal("store down past the grace still resolved")
	}
	l.principal("k", ok)
	if _, err := l.principal("k", revoked); bulwark.ErrorCode(err) != bulwark.EUNAUTHORIZED {
		t.Fatalf("revoked: %v", err)
	}
	if _, err := l.principal("k", down); err == nil {
		t.Fatal("a revoked credential came back from the cache when the store went down")
	}
}
