package auth

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// lastKnown remembers, for a bounded time, the principals credentials
// resolved to and the role bindings subjects held, so that authentication
// and authorisation keep working while the store is unavailable — above
// all for halt, which must work when the database is down (DESIGN §6.3).
// Only a store failure (not "unknown", "revoked" or "expired") falls back
// to it: a token revoked while the store is down keeps working until the
// store is back or the grace ends.
type lastKnown struct {
	mu         sync.Mutex
	grace      time.Duration
	now        func() time.Time
	log        *slog.Logger
	principals map[string]known[bulwark.Principal]
	bindings   map[string]known[[]*bulwark.RoleBinding]
}

type known[T any] struct {
	v  T
	at time.Time
}

func newLastKnown(grace time.Duration, now func() time.Time, log *slog.Logger) *lastKnown {
	return &lastKnown{grace: grace, now: now, log: log,
		principals: map[string]known[bulwark.Principal]{}, bindings: map[string]known[[]*bulwark.RoleBinding]{}}
}

// storeDown reports whether err is the store failing rather than an answer.
func storeDown(err error) bool {
	c := bulwark.ErrorCode(err)
	return c == bulwark.EINTERNAL || c == bulwark.EUNAVAILABLE
}

// principal returns resolve's answer, remembering it under key; when the
// store is down it returns the last answer for key within the grace.
func (l *lastKnown) principal(key string, resolve func() (bulwark.Principal, error)) (bulwark.Principal, error) {
	p, err := resolve()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		l.principals[key] = known[bulwark.Principal]{p, l.now()}
		return p, nil
	}
	if k, ok := l.principals[key]; ok && storeDown(err) && l.now().Sub(k.at) <= l.grace {
		l.log.Warn("auth store unavailable: using the last known principal", "principal", k.v.ID, "age", l.now().Sub(k.at), "err", err)
		return k.v, nil
	}
	if !storeDown(err) {
		delete(l.principals, key)
	}
	return p, err
}

// lastKnownBindings is Bindings with the same fallback.
type lastKnownBindings struct {
	b  Bindings
	lk *lastKnown
}

func (lb lastKnownBindings) RoleBindings(ctx context.Context, subject string) ([]*bulwark.RoleBinding, error) {
	bs, err := lb.b.RoleBindings(ctx, subject)
	l := lb.lk
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		l.bindings[subject] = known[[]*bulwark.RoleBinding]{bs, l.now()}
		return bs, nil
	}
	if k, ok := l.bindings[subject]; ok && storeDown(err) && l.now().Sub(k.at) <= l.grace {
		l.log.Warn("auth store unavailable: using the last known role bindings", "subject", subject, "age", l.now().Sub(k.at), "err", err)
		return k.v, nil
	}
	return bs, err
}
