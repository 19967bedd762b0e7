package alert

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Config configures a Receiver.
type Config struct {
	// HostLabels name an alert's host (DefaultHostLabels when empty).
	HostLabels []string
	// Mappings are generic webhook mappings by name, in addition to (or
	// replacing) the presets "zabbix" and "nightingale".
	Mappings map[string]Mapping
	// Token, when set, is required as "Authorization: Bearer <token>".
	Token string
	// MaxAlerts bounds the alerts kept (oldest dropped first); 0 means 10000.
	MaxAlerts int
	// Now is the clock for Received; nil means time.Now.
	Now func() time.Time
	// Logger receives a line per dropped notification; nil discards.
	Logger *slog.Logger
}

// maxBody bounds a webhook request body.
const maxBody = 4 << 20

// Receiver receives alerts over HTTP and hands them to subscribers. It is
// safe for concurrent use.
type Receiver struct {
	cfg      Config
	mappings map[string]Mapping
	mux      *http.ServeMux

	mu      sync.Mutex
	alerts  map[string]*Alert // by key(source, id)
	order   []string          // keys, oldest first
	subs    map[*subscriber]struct{}
	dropped int
}

type subscriber struct{ ch chan Alert }

// NewReceiver returns a receiver.
func NewReceiver(cfg Config) *Receiver {
	if len(cfg.HostLabels) == 0 {
		cfg.HostLabels = DefaultHostLabels
	}
	if cfg.MaxAlerts <= 0 {
		cfg.MaxAlerts = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Receiver{cfg: cfg, mappings: Presets(), alerts: map[string]*Alert{}, subs: map[*subscriber]struct{}{}}
	for name, m := range cfg.Mappings {
		r.mappings[name] = m
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{$}", r.handleAlertmanager)
	mux.HandleFunc("POST /alertmanager", r.handleAlertmanager)
	mux.HandleFunc("POST /webhook/{mapping}", r.handleGeneric)
	mux.HandleFunc("POST /ack", r.handleAck)
	r.mux = mux
	return r
}

// ServeHTTP implements http.Handler.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.cfg.Token != "" {
		want := "Bearer " + r.cfg.Token
		if subtle.ConstantTimeCompare([]byte(req.Header.Get("Authorization")), []byte(want)) != 1 {
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token")
			return
		}
	}
	if req.URL.Path == "" {
		req.URL.Path = "/" // mounted with http.StripPrefix at its exact prefix
	}
	req.Body = http.MaxBytesReader(w, req.Body, maxBody)
	r.mux.ServeHTTP(w, req)
}

// Subscribe returns a channel that receives every new alert and every change
// of an alert's status or acknowledgement, until ctx is done; then the
// channel is closed. Sends never block the receiver: when the channel's
// buffer (buf) is full the notification is dropped and counted (Dropped), so
// size buf generously and use Alerts to reconcile.
func (r *Receiver) Subscribe(ctx context.Context, buf int) <-chan Alert {
	s := &subscriber{ch: make(chan Alert, buf)}
	r.mu.Lock()
	r.subs[s] = struct{}{}
	r.mu.Unlock()
	context.AfterFunc(ctx, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.subs, s)
		close(s.ch)
	})
	return s.ch
}

// Alerts returns a copy of the alerts kept, oldest first.
func (r *Receiver) Alerts() []Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Alert, 0, len(r.order))
	for _, k := range r.order {
		out = append(out, r.alerts[k].clone())
	}
	return out
}

// Dropped returns how many notifications were dropped because a subscriber's
// buffer was full.
func (r *Receiver) Dropped() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// ErrUnknownAlert is returned by Ack for an alert the receiver has not seen.
var ErrUnknownAlert = errors.New("unknown alert")

// Ack records an acknowledgement by a person of the alert with id (from source,
// or from any source when source is empty). The first acknowledgement wins;
// a zero at means now. It returns the acknowledged alerts.
func (r *Receiver) Ack(source, id, by string, at time.Time) ([]Alert, error) {
	if at.IsZero() {
		at = r.cfg.Now()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Alert
	for _, k := range r.order {
		a := r.alerts[k]
		if a.ID != id || (source != "" && a.Source != source) {
			continue
		}
		if a.AckedAt == nil {
			t := at.UTC()
			a.AckedAt, a.AckedBy = &t, by
			r.notifyLocked(*a)
		}
		out = append(out, a.clone())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("ack %s %s: %w", source, id, ErrUnknownAlert)
	}
	return out, nil
}

// ingest records alerts received in one request and notifies subscribers.
func (r *Receiver) ingest(as []Alert) {
	now := r.cfg.Now().UTC()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range as {
		a.Received = now
		if a.AckedAt != nil && a.AckedAt.IsZero() {
			t := now
			a.AckedAt = &t
		}
		k := a.Source + "\x00" + a.ID
		old, ok := r.alerts[k]
		if !ok {
			r.alerts[k] = &a
			r.order = append(r.order, k)
			r.notifyLocked(a)
			continue
		}
		if merge(old, a) {
			r.notifyLocked(*old)
		}
	}
	for len(r.order) > r.cfg.MaxAlerts {
		delete(r.alerts, r.order[0])
		r.order = r.order[1:]
	}
}

// merge folds a repeat of an alert into old, keeping the first Received and
// StartsAt and the first acknowledgement. It reports whether the status or
// the acknowledgement changed.
func merge(old *Alert, a Alert) bool {
	changed := old.Status != a.Status || (old.AckedAt == nil && a.AckedAt != nil)
	a.Received = old.Received
	if !old.StartsAt.IsZero() && (a.StartsAt.IsZero() || old.StartsAt.Before(a.StartsAt)) {
		a.StartsAt = old.StartsAt
	}
	if old.AckedAt != nil {
		a.AckedAt, a.AckedBy = old.AckedAt, old.AckedBy
	}
	// An update may say less than the first event (Zabbix's recovery carries
	// no tags): keep what is not repeated.
	a.Host, a.HostIP, a.System = cmp(a.Host, old.Host), cmp(a.HostIP, old.HostIP), cmp(a.System, old.System)
	a.Severity, a.Title = cmp(a.Severity, old.Severity), cmp(a.Title, old.Title)
	a.Labels = mergeMaps(old.Labels, a.Labels)
	a.Annotations = mergeMaps(old.Annotations, a.Annotations)
	*old = a
	return changed
}

// mergeMaps returns old overlaid with new.
func mergeMaps(old, new map[string]string) map[string]string {
	if len(old) == 0 {
		return new
	}
	m := cloneMap(old)
	for k, v := range new {
		m[k] = v
	}
	return m
}

// notifyLocked sends a copy of a to every subscriber without blocking.
func (r *Receiver) notifyLocked(a Alert) {
	for s := range r.subs {
		select {
		case s.ch <- a.clone():
		default:
			r.dropped++
			r.cfg.Logger.Warn("alert notification dropped: subscriber buffer full", "source", a.Source, "id", a.ID)
		}
	}
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client has gone if this fails
}

// writeError writes the API's error shape (DESIGN §5).
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
