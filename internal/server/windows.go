package server

import (
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/internal/notify"
)

// windows tracks the open drill windows of ad-hoc faults, so that their end
// is announced at expiry or at a halt, whichever comes first (mark, don't
// mute: DESIGN §11).
type windows struct {
	mu   sync.Mutex
	open map[string]*openWindow
	n    *notify.Notifier
}

type openWindow struct {
	w     notify.Window
	timer *time.Timer
}

func newWindows(n *notify.Notifier) *windows {
	return &windows{open: map[string]*openWindow{}, n: n}
}

// start announces w and schedules its end at w.EndsAt.
func (ws *windows) start(w notify.Window) {
	if ws.n == nil {
		return
	}
	ws.n.Start(w)
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ow := &openWindow{w: w}
	ow.timer = time.AfterFunc(time.Until(w.EndsAt), func() { ws.end(w.ID, "expired") })
	ws.open[w.ID] = ow
}

// end announces the end of the window id once.
func (ws *windows) end(id, reason string) {
	ws.mu.Lock()
	ow, ok := ws.open[id]
	delete(ws.open, id)
	ws.mu.Unlock()
	if !ok {
		return
	}
	ow.timer.Stop()
	w := ow.w
	w.EndsAt = time.Now().UTC()
	ws.n.End(w, reason)
}

// halt ends every open window that covers scope.
func (ws *windows) halt(scope HaltScope) {
	ws.mu.Lock()
	var ids []string
	for id, ow := range ws.open {
		if scope.Environment != "" && ow.w.Environment != scope.Environment {
			continue
		}
		if scope.System != "" && !contains(ow.w.Systems, scope.System) {
			continue
		}
		ids = append(ids, id)
	}
	ws.mu.Unlock()
	for _, id := range ids {
		ws.end(id, "halted")
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
