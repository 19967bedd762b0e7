package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/auth"
)

// localUser creates a local user through the API as the bootstrap admin
// and returns its TOTP secret.
func (e *env) localUser(name, password string) string {
	e.t.Helper()
	var out struct {
		User *auth.User      `json:"user"`
		TOTP *auth.Enrolment `json:"totp"`
	}
	code := e.do("POST", "/api/v1/users", adminToken, map[string]any{"name": name, "password": password}, &out)
	if code != 201 || out.TOTP == nil || !strings.HasPrefix(out.TOTP.URL, "otpauth://totp/") {
		e.t.Fatalf("create user: %d %+v", code, out)
	}
	return out.TOTP.Secret
}

func (e *env) code(secret string) string {
	e.t.Helper()
	c, err := totp.GenerateCode(secret, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) login(c *http.Client, name, password, code string) int {
	e.t.Helper()
	return doWith(e.t, c, "POST", e.srv.URL+"/auth/login", "",
		map[string]string{"name": name, "password": password, "totp": code}, nil)
}

func jarClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

// TestLocalLogin: password and TOTP give a session cookie that
// authenticates; a wrong code, a wrong password and a replayed code are 401.
func TestLocalLogin(t *testing.T) {
	e := newEnv(t)
	const pw = "correct horse battery"
	secret := e.localUser("chen", pw)
	c := jarClient(t)

	if code := e.login(c, "chen", pw, "000000"); code != 401 && e.code(secret) != "000000" {
		t.Fatalf("wrong totp: %d", code)
	}
	if code := e.login(c, "chen", "wrong password!", e.code(secret)); code != 401 {
		t.Fatalf("wrong password: %d", code)
	}
	if code := e.login(c, "ghost", pw, e.code(secret)); code != 401 {
		t.Fatalf("unknown user: %d", code)
	}
	good := e.code(secret)
	if code := e.login(c, "chen", pw, good); code != 200 {
		t.Fatalf("good login: %d", code)
	}
	var me struct {
		Principal bulwark.Principal `json:"principal"`
	}
	if code := doWith(t, c, "GET", e.srv.URL+"/api/v1/me", "", nil, &me); code != 200 || me.Principal.Name != "chen" {
		t.Fatalf("me by session: %d %+v", code, me)
	}
	// The same code again, in the same step: a replay.
	var ae apiError
	if code := doWith(t, jarClient(t), "POST", e.srv.URL+"/auth/login", "",
		map[string]string{"name": "chen", "password": pw, "totp": good}, &ae); code != 401 ||
		!strings.Contains(ae.Error.Message, "already used") {
		t.Fatalf("replayed code: %d %+v", code, ae)
	}
	// The next step's code is fine; then the previous step's is refused
	// even though it is inside the skew.
	e.clock.Add(30 * time.Second)
	next := e.code(secret)
	if code := e.login(jarClient(t), "chen", pw, next); code != 200 {
		t.Fatalf("next step: %d", code)
	}
	if code := e.login(jarClient(t), "chen", pw, good); code != 401 {
		t.Fatalf("older step after a newer one: %d", code)
	}

	// Logout ends the session on the server.
	if code := doWith(t, c, "POST", e.srv.URL+"/auth/logout", "", nil, nil); code != 204 {
		t.Fatalf("logout: %d", code)
	}
	if code := doWith(t, c, "GET", e.srv.URL+"/api/v1/me", "", nil, nil); code != 401 {
		t.Fatalf("me after logout: %d", code)
	}
}

// TestTOTPSkew: a code of the previous or next step is accepted, two steps
// away is not.
func TestTOTPSkew(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := &auth.User{ID: bulwark.NewID(), Name: "skew"}
	if err := e.store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	enr, err := e.svc.EnrolTOTP(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) string {
		c, err := totp.GenerateCode(enr.Secret, e.clock.Now().Add(d))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := e.svc.CheckTOTP(ctx, u.ID, at(-60*time.Second)); bulwark.ErrorCode(err) != bulwark.EUNAUTHORIZED {
		t.Fatalf("two steps old: %v", err)
	}
	if err := e.svc.CheckTOTP(ctx, u.ID, at(-30*time.Second)); err != nil {
		t.Fatalf("one step old: %v", err)
	}
	if err := e.svc.CheckTOTP(ctx, u.ID, at(30*time.Second)); err != nil {
		t.Fatalf("one step ahead: %v", err)
	}
	if err := e.svc.CheckTOTP(ctx, u.ID, at(0)); bulwark.ErrorCode(err) != bulwark.EUNAUTHORIZED {
		t.Fatalf("current step after the next was used: %v", err)
	}
}

// TestTOTPSecretSealed: with a secret key the stored TOTP secret is not the
// secret, and a service with another key cannot use it.
func TestTOTPSecretSealed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	secret := e.localUser("lin", "a long enough password")
	u, err := e.store.UserByName(ctx, "lin")
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.store.TOTP(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(st.Secret), secret) || !strings.HasPrefix(string(st.Secret), "v1:") {
		t.Fatalf("stored secret is not sealed: %q", st.Secret)
	}
	other, err := auth.New(auth.Config{Store: e.store, Now: e.clock.Now, SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.CheckTOTP(ctx, u.ID, e.code(secret)); err == nil || bulwark.ErrorCode(err) != bulwark.EINTERNAL {
		t.Fatalf("wrong key: %v, want an internal error", err)
	}
}

// TestLoginRateLimit: after five failures the name is locked, even for
// the right credentials, until the window ends.
func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t)
	const pw = "correct horse battery"
	secret := e.localUser("he", pw)
	for i := range 5 {
		if code := e.login(jarClient(t), "he", "wrong password "+string(rune('a'+i)), "123456"); code != 401 {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	var ae apiError
	if code := doWith(t, jarClient(t), "POST", e.srv.URL+"/auth/login", "",
		map[string]string{"name": "he", "password": pw, "totp": e.code(secret)}, &ae); code != 429 {
		t.Fatalf("locked: %d %+v, want 429", code, ae)
	}
	// Another name is not affected.
	other := e.localUser("ma", pw)
	if code := e.login(jarClient(t), "ma", pw, e.code(other)); code != 200 {
		t.Fatalf("other user: %d", code)
	}
	e.clock.Add(15 * time.Minute)
	if code := e.login(jarClient(t), "he", pw, e.code(secret)); code != 200 {
		t.Fatalf("after the window: %d", code)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var refused, ok int
	for _, a := range e.audits {
		if a.Action == "login" && a.Principal.Name == "he" {
			if a.Result == "ok" {
				ok++
			} else {
				refused++
			}
		}
	}
	if refused != 6 || ok != 1 {
		t.Fatalf("audited %d refused and %d ok logins of he, want 6 and 1", refused, ok)
	}
}

// TestCreateUserNeedsGlobalAdmin: a team admin cannot create users.
func TestCreateUserNeedsGlobalAdmin(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("team-admin", bind(bulwark.RoleAdmin, bulwark.ScopeTeam, "equities"))
	if code := e.do("POST", "/api/v1/users", tok, map[string]any{"name": "x", "password": "long enough password"}, nil); code != 403 {
		t.Fatalf("team admin creates user: %d", code)
	}
	if code := e.do("POST", "/api/v1/users", adminToken, map[string]any{"name": "x", "password": "short"}, nil); code != 400 {
		t.Fatalf("short password: %d", code)
	}
}

// TestListUsersNeedsAdmin: the user list (names, emails) is for admins.
func TestListUsersNeedsAdmin(t *testing.T) {
	e := newEnv(t)
	_, viewer := e.user("viewer", bind(bulwark.RoleViewer, bulwark.ScopeGlobal, ""))
	_, teamAdmin := e.user("ta", bind(bulwark.RoleAdmin, bulwark.ScopeTeam, "equities"))
	if code := e.do("GET", "/api/v1/users", viewer, nil, nil); code != 403 {
		t.Fatalf("viewer lists users: %d", code)
	}
	e.localUser("local", "a long enough password")
	var out struct {
		Users []map[string]any `json:"users"`
	}
	if code := e.do("GET", "/api/v1/users", teamAdmin, nil, &out); code != 200 || len(out.Users) != 4 {
		t.Fatalf("team admin lists users: %d %+v", code, out)
	}
	for _, u := range out.Users {
		if fmt.Sprint(u) == "" || strings.Contains(fmt.Sprint(u), "argon2") {
			t.Fatalf("password hash leaked: %v", u)
		}
	}
}
