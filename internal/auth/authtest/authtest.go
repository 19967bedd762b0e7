// Package authtest is the contract suite for auth.Store: every
// implementation runs it (internal/store/sqlite does, on a real file).
package authtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/auth"
)

// TestStore runs the contract suite; open returns a new, empty store.
func TestStore(t *testing.T, open func(t *testing.T) auth.Store) {
	t.Run("Users", func(t *testing.T) { testUsers(t, open(t)) })
	t.Run("TOTP", func(t *testing.T) { testTOTP(t, open(t)) })
	t.Run("TOTPRace", func(t *testing.T) { testTOTPRace(t, open(t)) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, open(t)) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open(t)) })
	t.Run("RoleBindings", func(t *testing.T) { testBindings(t, open(t)) })
}

func code(t *testing.T, err error, want string) {
	t.Helper()
	if got := bulwark.ErrorCode(err); got != want {
		t.Fatalf("error code %q (%v), want %q", got, err, want)
	}
}

// MustUser creates a user with the given name.
func MustUser(t *testing.T, s auth.Store, name string) *auth.User {
	t.Helper()
	u := &auth.User{ID: bulwark.NewID(), Name: name}
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func testUsers(t *testing.T, s auth.Store) {
	ctx := context.Background()
	u := &auth.User{ID: bulwark.NewID(), Name: "li.wei", DisplayName: "李伟", Email: "li@example.com",
		PasswordHash: "$argon2id$x", Issuer: "https://idp", Subject: "sub-1"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u.CreatedAt.IsZero() || u.CreatedAt.Location() != time.UTC {
		t.Fatalf("CreatedAt %v, want set in UTC", u.CreatedAt)
	}
	for name, get := range map[string]func() (*auth.User, error){
		"id":      func() (*auth.User, error) { return s.UserByID(ctx, u.ID) },
		"name":    func() (*auth.User, error) { return s.UserByName(ctx, "li.wei") },
		"subject": func() (*auth.User, error) { return s.UserBySubject(ctx, "https://idp", "sub-1") },
	} {
		got, err := get()
		if err != nil {
			t.Fatalf("by %s: %v", name, err)
		}
		if *got != *u {
			t.Fatalf("by %s: got %+v, want %+v", name, got, u)
		}
	}
	code(t, s.CreateUser(ctx, &auth.User{ID: bulwark.NewID(), Name: "li.wei"}), bulwark.ECONFLICT)
	code(t, s.CreateUser(ctx, &auth.User{ID: bulwark.NewID(), Name: "other", Issuer: "https://idp", Subject: "sub-1"}),
		bulwark.ECONFLICT)
	// Two local users (no issuer) do not clash on the empty subject.
	MustUser(t, s, "local1")
	MustUser(t, s, "local2")
	_, err := s.UserByName(ctx, "nobody")
	code(t, err, bulwark.ENOTFOUND)
	_, err = s.UserBySubject(ctx, "https://idp", "sub-2")
	code(t, err, bulwark.ENOTFOUND)
	_, err = s.UserBySubject(ctx, "", "")
	code(t, err, bulwark.ENOTFOUND)

	u.DisplayName, u.Email, u.PasswordHash, u.Disabled = "Li Wei", "lw@example.com", "", true
	if err := s.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil || got.DisplayName != "Li Wei" || got.Email != "lw@example.com" || !got.Disabled || got.PasswordHash != "" {
		t.Fatalf("after update: %+v, %v", got, err)
	}
	code(t, s.UpdateUser(ctx, &auth.User{ID: bulwark.NewID(), Name: "x"}), bulwark.ENOTFOUND)
	all, err := s.Users(ctx)
	if err != nil || len(all) != 3 || all[0].Name != "li.wei" || all[2].Name != "local2" {
		t.Fatalf("Users: %v, %v", all, err)
	}

	a := &auth.Account{ID: bulwark.NewID(), Name: "ci", OwnerID: u.ID}
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	code(t, s.CreateAccount(ctx, &auth.Account{ID: bulwark.NewID(), Name: "ci", OwnerID: u.ID}), bulwark.ECONFLICT)
	code(t, s.CreateAccount(ctx, &auth.Account{ID: bulwark.NewID(), Name: "x", OwnerID: bulwark.NewID()}), bulwark.ENOTFOUND)
	ga, err := s.AccountByID(ctx, a.ID)
	if err != nil || *ga != *a {
		t.Fatalf("AccountByID: %+v, %v; want %+v", ga, err, a)
	}
	_, err = s.AccountByID(ctx, bulwark.NewID())
	code(t, err, bulwark.ENOTFOUND)
}

func testTOTP(t *testing.T, s auth.Store) {
	ctx := context.Background()
	u := MustUser(t, s, "u")
	_, err := s.TOTP(ctx, u.ID)
	code(t, err, bulwark.ENOTFOUND)
	code(t, s.UseTOTPStep(ctx, u.ID, 5), bulwark.ENOTFOUND)
	if err := s.PutTOTP(ctx, u.ID, []byte("s1")); err != nil {
		t.Fatal(err)
	}
	if err := s.UseTOTPStep(ctx, u.ID, 100); err != nil {
		t.Fatal(err)
	}
	code(t, s.UseTOTPStep(ctx, u.ID, 100), bulwark.ECONFLICT) // replay
	code(t, s.UseTOTPStep(ctx, u.ID, 99), bulwark.ECONFLICT)  // older
	if err := s.UseTOTPStep(ctx, u.ID, 101); err != nil {
		t.Fatal(err)
	}
	got, err := s.TOTP(ctx, u.ID)
	if err != nil || string(got.Secret) != "s1" || !got.Confirmed || got.LastStep != 101 {
		t.Fatalf("TOTP: %+v, %v", got, err)
	}
	// Re-enrolling replaces the secret and starts over.
	if err := s.PutTOTP(ctx, u.ID, []byte("s2")); err != nil {
		t.Fatal(err)
	}
	got, err = s.TOTP(ctx, u.ID)
	if err != nil || string(got.Secret) != "s2" || got.Confirmed || got.LastStep != 0 {
		t.Fatalf("TOTP after re-enrol: %+v, %v", got, err)
	}
	code(t, s.PutTOTP(ctx, bulwark.NewID(), []byte("x")), bulwark.ENOTFOUND)
}

// testTOTPRace: of many concurrent uses of one step exactly one wins.
func testTOTPRace(t *testing.T, s auth.Store) {
	ctx := context.Background()
	u := MustUser(t, s, "u")
	if err := s.PutTOTP(ctx, u.ID, []byte("s")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Go(func() {
			err := s.UseTOTPStep(ctx, u.ID, 7)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if bulwark.ErrorCode(err) != bulwark.ECONFLICT {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent uses of one step succeeded, want 1", wins)
	}
}

func testTokens(t *testing.T, s auth.Store) {
	ctx := context.Background()
	u := MustUser(t, s, "u")
	exp := time.Date(2030, 1, 2, 3, 4, 5, 6, time.FixedZone("CST", 8*3600))
	t1 := &auth.Token{ID: bulwark.NewID(), Hash: "h1", Name: "mine", SubjectID: u.ID,
		SubjectKind: bulwark.PrincipalUser, OwnerID: u.ID, ExpiresAt: &exp}
	if err := s.CreateToken(ctx, t1); err != nil {
		t.Fatal(err)
	}
	t2 := &auth.Token{ID: bulwark.NewID(), Hash: "h2", Name: "acct", SubjectID: bulwark.NewID(),
		SubjectKind: bulwark.PrincipalAccount, OwnerID: u.ID}
	if err := s.CreateToken(ctx, t2); err != nil {
		t.Fatal(err)
	}
	code(t, s.CreateToken(ctx, &auth.Token{ID: bulwark.NewID(), Hash: "h1", SubjectID: u.ID,
		SubjectKind: bulwark.PrincipalUser, OwnerID: u.ID}), bulwark.ECONFLICT)
	got, err := s.TokenByHash(ctx, "h1")
	if err != nil || got.ID != t1.ID || !got.ExpiresAt.Equal(exp) || got.ExpiresAt.Location() != time.UTC ||
		got.SubjectKind != bulwark.PrincipalUser || got.RevokedAt != nil {
		t.Fatalf("TokenByHash: %+v, %v", got, err)
	}
	_, err = s.TokenByHash(ctx, "nope")
	code(t, err, bulwark.ENOTFOUND)
	ts, err := s.TokensByOwner(ctx, u.ID)
	if err != nil || len(ts) != 2 || ts[0].ID != t2.ID {
		t.Fatalf("TokensByOwner: %v, %v (want newest first)", ts, err)
	}
	at := time.Now().UTC()
	if err := s.RevokeToken(ctx, t1.ID, at); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, t1.ID, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err = s.TokenByID(ctx, t1.ID)
	if err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(at) {
		t.Fatalf("revoked token: %+v, %v (want the first RevokedAt %v)", got, err, at)
	}
	code(t, s.RevokeToken(ctx, bulwark.NewID(), at), bulwark.ENOTFOUND)
}

func testSessions(t *testing.T, s auth.Store) {
	ctx := context.Background()
	u := MustUser(t, s, "u")
	now := time.Now().UTC().Truncate(time.Microsecond)
	live := &auth.Session{Hash: "live", UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	old := &auth.Session{Hash: "old", UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(-time.Second)}
	for _, se := range []*auth.Session{live, old} {
		if err := s.CreateSession(ctx, se); err != nil {
			t.Fatal(err)
		}
	}
	code(t, s.CreateSession(ctx, &auth.Session{Hash: "live", UserID: u.ID, ExpiresAt: now}), bulwark.ECONFLICT)
	got, err := s.SessionByHash(ctx, "live")
	if err != nil || got.UserID != u.ID || !got.ExpiresAt.Equal(live.ExpiresAt) {
		t.Fatalf("SessionByHash: %+v, %v", got, err)
	}
	n, err := s.DeleteExpiredSessions(ctx, now)
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSessions: %d, %v; want 1", n, err)
	}
	_, err = s.SessionByHash(ctx, "old")
	code(t, err, bulwark.ENOTFOUND)
	if err := s.DeleteSession(ctx, "live"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, "live"); err != nil {
		t.Fatal(err)
	}
	_, err = s.SessionByHash(ctx, "live")
	code(t, err, bulwark.ENOTFOUND)
}

func testBindings(t *testing.T, s auth.Store) {
	ctx := context.Background()
	b1 := &bulwark.RoleBinding{ID: bulwark.NewID(), Subject: "s1", Role: bulwark.RoleOperator,
		Scope: bulwark.Scope{Kind: bulwark.ScopeTeam, Name: "equities"}}
	b2 := &bulwark.RoleBinding{ID: bulwark.NewID(), Subject: "s2", Role: bulwark.RoleAdmin,
		Scope: bulwark.Scope{Kind: bulwark.ScopeGlobal}}
	for _, b := range []*bulwark.RoleBinding{b1, b2} {
		if err := s.CreateRoleBinding(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	dup := *b1
	dup.ID = bulwark.NewID()
	code(t, s.CreateRoleBinding(ctx, &dup), bulwark.ECONFLICT)
	bad := *b1
	bad.ID, bad.Role = bulwark.NewID(), "root"
	code(t, s.CreateRoleBinding(ctx, &bad), bulwark.EINVALID)
	got, err := s.RoleBindingByID(ctx, b1.ID)
	if err != nil || *got != *b1 {
		t.Fatalf("RoleBindingByID: %+v, %v", got, err)
	}
	bs, err := s.RoleBindings(ctx, "s1")
	if err != nil || len(bs) != 1 || *bs[0] != *b1 {
		t.Fatalf("RoleBindings(s1): %v, %v", bs, err)
	}
	bs, err = s.RoleBindings(ctx, "")
	if err != nil || len(bs) != 2 || bs[0].ID >= bs[1].ID {
		t.Fatalf("RoleBindings(all): %v, %v", bs, err)
	}
	if err := s.DeleteRoleBinding(ctx, b1.ID); err != nil {
		t.Fatal(err)
	}
	code(t, s.DeleteRoleBinding(ctx, b1.ID), bulwark.ENOTFOUND)
	_, err = s.RoleBindingByID(ctx, b1.ID)
	code(t, err, bulwark.ENOTFOUND)
}
