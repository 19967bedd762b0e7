package alert

import (
	"time"
)

// Status is whether an alert is firing or resolved.
type Status string

// The alert statuses.
const (
	StatusFiring   Status = "firing"
	StatusResolved Status = "resolved"
)

// Sources of alerts, as recorded in Alert.Source. A generic mapping records
// its own name.
const (
	SourceAlertmanager = "alertmanager"
	SourceZabbix       = "zabbix"
	SourceNightingale  = "nightingale"
)

// Alert is one alert, normalised from whichever system sent it.
type Alert struct {
	// Source is the system or mapping it came from ("alertmanager", "zabbix", …).
	Source string `json:"source"`
	// ID identifies the alert within its source (Alertmanager's fingerprint,
	// Zabbix's event id, Nightingale's hash); repeats with the same ID update
	// one alert.
	ID string `json:"id"`
	// Received is when the receiver first saw the alert.
	Received time.Time `json:"received"`
	// StartsAt is when the source says the alert started; t_alert of contract 4.
	StartsAt time.Time  `json:"startsAt"`
	EndsAt   *time.Time `json:"endsAt,omitempty"`
	// Host and HostIP name the host the alert is about, when the source says.
	Host     string `json:"host,omitempty"`
	HostIP   string `json:"hostIP,omitempty"`
	System   string `json:"system,omitempty"`
	Severity string `json:"severity,omitempty"`
	Title    string `json:"title,omitempty"`
	Status   Status `json:"status"`
	// Labels are the alert's labels or tags; Annotations its descriptive text.
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// AckedAt and AckedBy record the first acknowledgement by a person.
	AckedAt *time.Time `json:"ackedAt,omitempty"`
	AckedBy string     `json:"ackedBy,omitempty"`
}

// DefaultHostLabels are the labels that name an alert's host, in order.
var DefaultHostLabels = []string{"instance", "host", "hostname"}

// hostFromLabels returns the first of hostLabels present in labels, without a
// port.
func hostFromLabels(labels map[string]string, hostLabels []string) string {
	for _, l := range hostLabels {
		if v := labels[l]; v != "" {
			return stripHost(v)
		}
	}
	return ""
}

// clone returns a copy of a that shares nothing mutable with it.
func (a Alert) clone() Alert {
	a.Labels = cloneMap(a.Labels)
	a.Annotations = cloneMap(a.Annotations)
	if a.EndsAt != nil {
		t := *a.EndsAt
		a.EndsAt = &t
	}
	if a.AckedAt != nil {
		t := *a.AckedAt
		a.AckedAt = &t
	}
	return a
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
