package alert

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Mapping.TimeZone works on hosts without a zoneinfo database (Windows)
)

// Mapping turns a generic JSON webhook body into alerts. Each string field is
// an expression (see path.go: a dotted path, a {{path}} template, or
// alternatives joined by ||) evaluated against one event.
type Mapping struct {
	// Source names the alerts' source; the mapping's name when empty.
	Source string `json:"source,omitempty" yaml:"source,omitempty"`
	// Items is the path to an array of events in the body; when empty the
	// body is one event, or an array of events.
	Items string `json:"items,omitempty" yaml:"items,omitempty"`

	ID       string `json:"id,omitempty" yaml:"id,omitempty"`
	Title    string `json:"title,omitempty" yaml:"title,omitempty"`
	Host     string `json:"host,omitempty" yaml:"host,omitempty"`
	HostIP   string `json:"hostIP,omitempty" yaml:"hostIP,omitempty"`
	System   string `json:"system,omitempty" yaml:"system,omitempty"`
	Severity string `json:"severity,omitempty" yaml:"severity,omitempty"`
	StartsAt string `json:"startsAt,omitempty" yaml:"startsAt,omitempty"`
	// Status is firing unless its value is one of ResolvedValues
	// (case-insensitive; default "resolved", "ok", "recovered").
	Status         string   `json:"status,omitempty" yaml:"status,omitempty"`
	ResolvedValues []string `json:"resolvedValues,omitempty" yaml:"resolvedValues,omitempty"`
	// Labels maps label names to expressions; Tags is the path to tags that are
	// merged into the labels (see tags for the forms understood).
	Labels map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	Tags   string            `json:"tags,omitempty" yaml:"tags,omitempty"`
	// The event is acknowledged when Acked's value is one of AckedValues
	// (default "true", "yes", "1"), or, with no Acked, when AckedBy is set.
	Acked       string   `json:"acked,omitempty" yaml:"acked,omitempty"`
	AckedValues []string `json:"ackedValues,omitempty" yaml:"ackedValues,omitempty"`
	AckedBy     string   `json:"ackedBy,omitempty" yaml:"ackedBy,omitempty"`
	AckedAt     string   `json:"ackedAt,omitempty" yaml:"ackedAt,omitempty"`
	// TimeLayout is a Go layout for textual times, tried after RFC 3339;
	// numbers are Unix seconds (milliseconds when above 1e12).
	TimeLayout string `json:"timeLayout,omitempty" yaml:"timeLayout,omitempty"`
	// TimeZone is where times without a zone are (default Asia/Shanghai).
	TimeZone string `json:"timeZone,omitempty" yaml:"timeZone,omitempty"`
}

// DefaultTimeZone is the zone of textual times without one (DESIGN §12).
const DefaultTimeZone = "Asia/Shanghai"

func (r *Receiver) handleGeneric(w http.ResponseWriter, req *http.Request) {
	name := req.PathValue("mapping")
	m, ok := r.mappings[name]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no webhook mapping %q", name))
		return
	}
	var body any
	dec := json.NewDecoder(req.Body)
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("decode %s payload: %v", name, err))
		return
	}
	as, err := m.Apply(name, body, r.cfg.HostLabels)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	r.ingest(as)
	writeJSON(w, http.StatusOK, map[string]int{"received": len(as)})
}

// Apply maps a decoded body (decoded with UseNumber, or plain) to alerts.
func (m Mapping) Apply(name string, body any, hostLabels []string) ([]Alert, error) {
	loc, err := time.LoadLocation(cmp(m.TimeZone, DefaultTimeZone))
	if err != nil {
		return nil, fmt.Errorf("mapping %s: time zone: %w", name, err)
	}
	events := []any{body}
	if m.Items != "" {
		body = walk(body, m.Items)
	}
	if list, ok := body.([]any); ok {
		events = list
	} else if m.Items != "" {
		return nil, fmt.Errorf("mapping %s: %s is not an array of events", name, m.Items)
	}
	out := make([]Alert, 0, len(events))
	for i, ev := range events {
		a, err := m.one(ev, loc, hostLabels)
		if err != nil {
			return nil, fmt.Errorf("mapping %s: event %d: %w", name, i, err)
		}
		a.Source = cmp(m.Source, name)
		out = append(out, a)
	}
	return out, nil
}

// one maps one event.
func (m Mapping) one(ev any, loc *time.Location, hostLabels []string) (Alert, error) {
	if _, ok := ev.(map[string]any); !ok {
		return Alert{}, fmt.Errorf("not a JSON object")
	}
	a := Alert{
		ID: lookupText(ev, m.ID), Title: lookupText(ev, m.Title), Severity: lookupText(ev, m.Severity),
		Host: stripHost(lookupText(ev, m.Host)), HostIP: stripHost(lookupText(ev, m.HostIP)),
		System: lookupText(ev, m.System), Status: StatusFiring, Labels: map[string]string{},
	}
	if m.Tags != "" {
		for k, v := range tags(lookup(ev, m.Tags)) {
			a.Labels[k] = v
		}
	}
	for k, expr := range m.Labels {
		if v := lookupText(ev, expr); v != "" {
			a.Labels[k] = v
		}
	}
	a.Host = cmp(a.Host, hostFromLabels(a.Labels, hostLabels))
	a.System = cmp(a.System, a.Labels["system"])
	if oneOf(lookupText(ev, m.Status), m.ResolvedValues, "resolved", "ok", "recovered") {
		a.Status = StatusResolved
	}
	var err error
	if a.StartsAt, err = m.time(lookup(ev, m.StartsAt), loc); err != nil {
		return Alert{}, fmt.Errorf("startsAt: %w", err)
	}
	if a.ID == "" {
		a.ID = labelsFingerprint(map[string]string{"title": a.Title, "host": a.Host, "startsAt": a.StartsAt.String()})
	}
	by := lookupText(ev, m.AckedBy)
	if (m.Acked != "" && oneOf(lookupText(ev, m.Acked), m.AckedValues, "true", "yes", "1")) || (m.Acked == "" && by != "") {
		// A missing or unreadable time (Zabbix leaves macros it cannot resolve
		// as they are) means "when received": ingest fills it in.
		at, _ := m.time(lookup(ev, m.AckedAt), loc)
		a.AckedAt, a.AckedBy = &at, by
	}
	return a, nil
}

// time parses a time value: a number of Unix seconds (ms above 1e12), RFC
// 3339, or TimeLayout in loc. Nothing yields the zero time.
func (m Mapping) time(v any, loc *time.Location) (time.Time, error) {
	s := strings.TrimSpace(text(v))
	if s == "" {
		return time.Time{}, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f > 1e12 {
			f /= 1000
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{m.TimeLayout, time.DateTime} {
		if layout == "" {
			continue
		}
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a Unix time, RFC 3339 or %q", s, cmp(m.TimeLayout, time.DateTime))
}

// oneOf reports whether v equals (case-insensitively) one of vals, or of
// defaults when vals is empty.
func oneOf(v string, vals []string, defaults ...string) bool {
	if v == "" {
		return false
	}
	if len(vals) == 0 {
		vals = defaults
	}
	for _, x := range vals {
		if strings.EqualFold(v, x) {
			return true
		}
	}
	return false
}

// cmp returns a, or b when a is empty.
func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
