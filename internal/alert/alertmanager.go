package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"
)

// amPayload is Alertmanager's webhook body, version 4.
type amPayload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []amAlert         `json:"alerts"`
}

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

func (r *Receiver) handleAlertmanager(w http.ResponseWriter, req *http.Request) {
	var p amPayload
	if err := json.NewDecoder(req.Body).Decode(&p); err != nil {
		writeError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("decode alertmanager payload: %v", err))
		return
	}
	if p.Version != "" && p.Version != "4" {
		writeError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("alertmanager payload version %q, want 4", p.Version))
		return
	}
	as := make([]Alert, 0, len(p.Alerts))
	for _, a := range p.Alerts {
		as = append(as, fromAlertmanager(a, r.cfg.HostLabels))
	}
	r.ingest(as)
	writeJSON(w, http.StatusOK, map[string]int{"received": len(as)})
}

// fromAlertmanager normalises one Alertmanager alert.
func fromAlertmanager(a amAlert, hostLabels []string) Alert {
	out := Alert{
		Source:      SourceAlertmanager,
		ID:          a.Fingerprint,
		StartsAt:    a.StartsAt.UTC(),
		Host:        hostFromLabels(a.Labels, hostLabels),
		System:      a.Labels["system"],
		Severity:    a.Labels["severity"],
		Title:       a.Annotations["summary"],
		Status:      StatusFiring,
		Labels:      a.Labels,
		Annotations: a.Annotations,
	}
	if out.ID == "" {
		out.ID = labelsFingerprint(a.Labels)
	}
	if out.Title == "" {
		out.Title = a.Labels["alertname"]
	}
	if a.Status == string(StatusResolved) {
		out.Status = StatusResolved
	}
	if a.EndsAt.Year() > 1 {
		t := a.EndsAt.UTC()
		out.EndsAt = &t
	}
	return out
}

// labelsFingerprint identifies an alert by its sorted labels when the sender
// gave no fingerprint.
func labelsFingerprint(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%s\x00", k, labels[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// ackRequest is the body of POST /ack.
type ackRequest struct {
	Source string    `json:"source"`
	ID     string    `json:"id"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

func (r *Receiver) handleAck(w http.ResponseWriter, req *http.Request) {
	var a ackRequest
	if err := json.NewDecoder(req.Body).Decode(&a); err != nil {
		writeError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("decode ack: %v", err))
		return
	}
	if a.ID == "" || a.By == "" {
		writeError(w, http.StatusBadRequest, "invalid", "ack needs id and by")
		return
	}
	acked, err := r.Ack(a.Source, a.ID, a.By, a.At)
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"acked": acked})
}
