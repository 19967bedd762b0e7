package proxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// jsonDuration is a time.Duration written in Go syntax ("300ms").
type jsonDuration time.Duration

func (d jsonDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"300ms\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("parse duration: %w", err)
	}
	*d = jsonDuration(v)
	return nil
}

type faultAlias Fault

// faultWire shadows Fault's durations with string forms.
type faultWire struct {
	*faultAlias
	Delay   jsonDuration `json:"delay,omitempty"`
	Jitter  jsonDuration `json:"jitter,omitempty"`
	Timeout jsonDuration `json:"timeout,omitempty"`
}

// MarshalJSON writes durations in Go syntax ("300ms").
func (f Fault) MarshalJSON() ([]byte, error) {
	a := faultAlias(f)
	return json.Marshal(faultWire{faultAlias: &a, Delay: jsonDuration(f.Delay), Jitter: jsonDuration(f.Jitter), Timeout: jsonDuration(f.Timeout)})
}

// UnmarshalJSON reads durations in Go syntax and rejects unknown fields;
// fields absent from b keep their current values, so callers can decode
// over defaults.
func (f *Fault) UnmarshalJSON(b []byte) error {
	w := faultWire{faultAlias: (*faultAlias)(f), Delay: jsonDuration(f.Delay), Jitter: jsonDuration(f.Jitter), Timeout: jsonDuration(f.Timeout)}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	f.Delay, f.Jitter, f.Timeout = time.Duration(w.Delay), time.Duration(w.Jitter), time.Duration(w.Timeout)
	return nil
}
