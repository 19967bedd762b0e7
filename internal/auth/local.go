package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// NewLocalUser is a local user to create.
type NewLocalUser struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email"`
	Password    string `json:"password"`
}

// minPassword is the shortest local password accepted.
const minPassword = 12

// CreateLocalUser creates a local user with a password and enrols TOTP; the
// enrolment is returned once, to be handed to the user.
func (s *Service) CreateLocalUser(ctx context.Context, nu NewLocalUser) (*User, *Enrolment, error) {
	nu.Name = strings.TrimSpace(nu.Name)
	if nu.Name == "" || strings.ContainsAny(nu.Name, " \t\r\n") {
		return nil, nil, bulwark.Errorf(bulwark.EINVALID, "name: required, without spaces")
	}
	if len(nu.Password) < minPassword {
		return nil, nil, bulwark.Errorf(bulwark.EINVALID, "password: at least %d characters", minPassword)
	}
	u := &User{ID: bulwark.NewID(), Name: nu.Name, DisplayName: nu.DisplayName, Email: nu.Email,
		PasswordHash: s.cfg.Argon2.Hash(nu.Password)}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, nil, err
	}
	enr, err := s.EnrolTOTP(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	return u, enr, nil
}

// LocalLogin checks a local user's password and TOTP code and returns the
// user. Failures count against the name; past the limit it answers 429
// until the window ends, whatever the credentials.
func (s *Service) LocalLogin(ctx context.Context, name, password, code string) (*User, error) {
	now := s.now()
	if locked, until := s.limiter.blocked(name, now); locked {
		return nil, bulwark.Errorf(codeTooMany, "too many failed sign-ins for %q: try again after %s",
			name, until.Format(time.RFC3339))
	}
	u, err := s.checkLocal(ctx, name, password, code)
	if err != nil {
		if c := bulwark.ErrorCode(err); c == bulwark.EUNAUTHORIZED {
			s.limiter.fail(name, now)
			s.log.Warn("local sign-in refused", "user", name, "reason", bulwark.ErrorMessage(err))
		}
		return nil, err
	}
	s.limiter.succeed(name)
	return u, nil
}

func (s *Service) checkLocal(ctx context.Context, name, password, code string) (*User, error) {
	wrong := bulwark.Errorf(bulwark.EUNAUTHORIZED, "wrong name, password or code")
	u, err := s.store.UserByName(ctx, name)
	if bulwark.ErrorCode(err) == bulwark.ENOTFOUND {
		s.cfg.Argon2.Hash(password) // spend the same time as for a real user
		return nil, wrong
	} else if err != nil {
		return nil, err
	}
	if u.PasswordHash == "" || u.Disabled {
		return nil, wrong
	}
	ok, err := CheckPassword(u.PasswordHash, password)
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", u.Name, err)
	}
	if !ok {
		return nil, wrong
	}
	if err := s.CheckTOTP(ctx, u.ID, code); err != nil {
		return nil, err
	}
	return u, nil
}

// handleLogin serves POST /auth/login {name, password, totp}: 200 {user}
// with a session cookie, 401 on any wrong credential, 429 past the limit.
func (s *Service) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name     string `json:"name"`
		Password string `json:"password"`
		TOTP     string `json:"totp"`
	}
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, err)
		return
	}
	u, err := s.LocalLogin(r.Context(), req.Name, req.Password, req.TOTP)
	who := bulwark.Principal{Name: req.Name, Kind: bulwark.PrincipalUser}
	if u != nil {
		who.ID = u.ID
	}
	s.audit(r.Context(), who, "login", err)
	if err == nil {
		err = s.StartSession(r.Context(), w, r, u.ID)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
}

// decodeJSON decodes a request body strictly: unknown fields are EINVALID.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bulwark.Errorf(bulwark.EINVALID, "request body: %v", err)
	}
	return nil
}

// fail answers err, logging errors that are not the caller's.
func (s *Service) fail(w http.ResponseWriter, err error) {
	if bulwark.ErrorCode(err) == bulwark.EINTERNAL {
		s.log.Error("auth request failed", "err", err)
	}
	writeError(w, err)
}
