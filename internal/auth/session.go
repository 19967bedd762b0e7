package auth

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// SessionCookie is the name of the session cookie.
const SessionCookie = "bulwark_session"

// StartSession creates a session for the user and sets its cookie on w.
// The cookie holds 32 random bytes; the store keeps their SHA-256.
func (s *Service) StartSession(ctx context.Context, w http.ResponseWriter, r *http.Request, userID string) error {
	id := randomString(32)
	now := s.now()
	se := &Session{Hash: HashSecret(id), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := s.store.CreateSession(ctx, se); err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	// Sign-ins are rare enough to sweep ended sessions here.
	if _, err := s.store.DeleteExpiredSessions(ctx, now); err != nil {
		s.log.Warn("delete expired sessions", "err", err)
	}
	http.SetCookie(w, s.cookie(r, SessionCookie, id, s.cfg.SessionTTL))
	return nil
}

// cookie returns an HttpOnly, SameSite=Lax cookie that lasts ttl (Max-Age,
// so the browser's clock does not matter), Secure over TLS or when
// configured. An empty value deletes it.
func (s *Service) cookie(r *http.Request, name, value string, ttl time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.cfg.SecureCookies || r.TLS != nil,
	}
	c.MaxAge = int(ttl / time.Second)
	if value == "" || c.MaxAge <= 0 {
		c.MaxAge = -1
	}
	return c
}

// sessionPrincipal returns the user of a live session id.
func (s *Service) sessionPrincipal(ctx context.Context, id string) (bulwark.Principal, error) {
	se, err := s.store.SessionByHash(ctx, HashSecret(id))
	if bulwark.ErrorCode(err) == bulwark.ENOTFOUND {
		return bulwark.Principal{}, bulwark.Errorf(bulwark.EUNAUTHORIZED, "session unknown or ended: sign in again")
	} else if err != nil {
		return bulwark.Principal{}, err
	}
	if !s.now().Before(se.ExpiresAt) {
		return bulwark.Principal{}, bulwark.Errorf(bulwark.EUNAUTHORIZED, "session expired: sign in again")
	}
	return s.userPrincipal(ctx, se.UserID, "")
}

// userPrincipal returns the principal of an enabled user.
func (s *Service) userPrincipal(ctx context.Context, userID, tokenID string) (bulwark.Principal, error) {
	u, err := s.store.UserByID(ctx, userID)
	if bulwark.ErrorCode(err) == bulwark.ENOTFOUND {
		return bulwark.Principal{}, bulwark.Errorf(bulwark.EUNAUTHORIZED, "user no longer exists")
	} else if err != nil {
		return bulwark.Principal{}, err
	}
	if u.Disabled {
		return bulwark.Principal{}, bulwark.Errorf(bulwark.EUNAUTHORIZED, "user %q is disabled", u.Name)
	}
	return bulwark.Principal{ID: u.ID, Name: u.Name, Kind: bulwark.PrincipalUser, TokenID: tokenID}, nil
}

// handleLogout ends the caller's session and clears the cookie.
func (s *Service) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if err := s.store.DeleteSession(r.Context(), HashSecret(c.Value)); err != nil {
			writeError(w, err)
			return
		}
	}
	http.SetCookie(w, s.cookie(r, SessionCookie, "", 0))
	w.WriteHeader(http.StatusNoContent)
}
