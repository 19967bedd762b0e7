package auth

import (
	"sync"
	"time"
)

// limiter counts failed logins per key (the user name) in a fixed window
// that starts at the first failure; at max failures the key is locked until
// the window ends. A success clears the key. It is in memory, per process.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	keys   map[string]*failures
}

type failures struct {
	n     int
	start time.Time
}

// maxLimiterKeys bounds memory under a spray of made-up names: past it,
// expired windows are dropped first.
const maxLimiterKeys = 10000

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, keys: map[string]*failures{}}
}

// blocked reports whether key is locked at now, and until when.
func (l *limiter) blocked(key string, now time.Time) (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.keys[key]
	if f == nil || now.Sub(f.start) >= l.window {
		return false, time.Time{}
	}
	return f.n >= l.max, f.start.Add(l.window)
}

// fail records a failure of key at now.
func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.keys[key]
	if f == nil || now.Sub(f.start) >= l.window {
		if len(l.keys) >= maxLimiterKeys {
			l.prune(now)
		}
		f = &failures{start: now}
		l.keys[key] = f
	}
	f.n++
}

// succeed clears key.
func (l *limiter) succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}

func (l *limiter) prune(now time.Time) {
	for k, f := range l.keys {
		if now.Sub(f.start) >= l.window {
			delete(l.keys, k)
		}
	}
}
