package proxy

import (
	"errors"
	"fmt"
	"time"
)

// Type is what a fault does.
type Type string

// Fault types, one per dependency fault kind.
const (
	// Slow delays units (Delay ± Jitter) and caps bandwidth (Rate).
	Slow Type = "slow"
	// Hang holds data: from the start, after AfterBytes/AfterFrames, or
	// everything but heartbeats.
	Hang Type = "hang"
	// Down refuses new connections with a reset; with ResetExisting it also
	// resets live proxied connections.
	Down Type = "down"
	// Error answers HTTP requests with Status (gRPC with GRPCStatus), and
	// corrupts raw bytes.
	Error Type = "error"
	// Truncate lets Bytes through, then closes the connection.
	Truncate Type = "truncate"
	// TLS terminates TLS towards the client with a bad certificate.
	TLS Type = "tls"
)

// Per says how often a fault's Percent is rolled.
type Per string

// Granularities of a fault's probability.
const (
	// PerConnection rolls once per connection.
	PerConnection Per = "connection"
	// PerChunk rolls for every unit the framer produces.
	PerChunk Per = "chunk"
	// PerRequest rolls once per request (HTTP exchange, HTTP/2 stream, or
	// framed message for non-HTTP framers).
	PerRequest Per = "request"
)

// Direction is the way data flows through the proxy.
type Direction string

// Directions of data flow.
const (
	// Downstream is upstream → client: responses.
	Downstream Direction = "downstream"
	// Upstream is client → upstream: requests.
	Upstream Direction = "upstream"
)

// TLSMode is the kind of bad certificate a TLS fault serves.
type TLSMode string

// Certificate faults.
const (
	TLSExpired   TLSMode = "expired"
	TLSWrongName TLSMode = "wrong-name"
	TLSUntrusted TLSMode = "untrusted"
)

// Match restricts a fault to HTTP requests. The zero Match matches every
// unit, HTTP or not; a non-zero Match never matches non-HTTP traffic.
type Match struct {
	// Method is an HTTP method, compared case-insensitively.
	Method string `json:"method,omitempty"`
	// Path is a path prefix, or a glob (path.Match syntax plus a trailing
	// "**" for any suffix) when it contains * ? or [.
	Path string `json:"path,omitempty"`
	// Header lists header values that must all be present (k=v, names
	// case-insensitive, values exact).
	Header map[string]string `json:"header,omitempty"`
}

// IsZero reports whether m matches everything.
func (m Match) IsZero() bool { return m.Method == "" && m.Path == "" && len(m.Header) == 0 }

// Fault is one active fault on a proxy. It is a value: the proxy copies it
// on SetFaults, and changing it afterwards has no effect.
type Fault struct {
	// ID names the fault; unique within a proxy.
	ID   string `json:"id"`
	Type Type   `json:"type"`
	// Percent is the probability, 0 to 100, that the fault applies, rolled
	// per Per. Zero never fires; callers default it to 100.
	Percent   float64   `json:"percent"`
	Per       Per       `json:"per,omitempty"`
	Direction Direction `json:"direction,omitempty"`
	Match     Match     `json:"match,omitzero"`

	// Slow: Delay ± Jitter per unit (once per message with PerRequest) and a
	// bandwidth cap in bytes per second.
	Delay  time.Duration `json:"delay,omitempty"`
	Jitter time.Duration `json:"jitter,omitempty"`
	Rate   int64         `json:"rate,omitempty"`
	// SliceSize, when positive, cuts each unit into writes of about this many
	// bytes (± SliceVariation), each delayed by Delay (Toxiproxy's slicer).
	SliceSize      int `json:"sliceSize,omitempty"`
	SliceVariation int `json:"sliceVariation,omitempty"`

	// Hang: stall after this many bytes or units in Direction; with
	// Heartbeats, keep passing heartbeat units and hold the rest. Timeout,
	// when positive, closes a hung connection after that long.
	AfterBytes  int64         `json:"afterBytes,omitempty"`
	AfterFrames int64         `json:"afterFrames,omitempty"`
	Heartbeats  bool          `json:"heartbeats,omitempty"`
	Timeout     time.Duration `json:"timeout,omitempty"`

	// Down: also reset connections that are already proxied.
	ResetExisting bool `json:"resetExisting,omitempty"`

	// Error: the HTTP answer (Status, Body, Header) or the gRPC status
	// (GRPCStatus, GRPCMessage; 0 derives one from Status). For non-HTTP
	// units the bytes are corrupted, or truncated when Corrupt is "truncate".
	Status      int               `json:"status,omitempty"`
	Body        string            `json:"body,omitempty"`
	Header      map[string]string `json:"header,omitempty"`
	GRPCStatus  int               `json:"grpcStatus,omitempty"`
	GRPCMessage string            `json:"grpcMessage,omitempty"`
	Corrupt     string            `json:"corrupt,omitempty"`

	// Truncate: bytes let through (per connection in Direction, or per unit
	// or message) before the connection is closed; 0 with PerChunk or
	// PerRequest lets half of the unit through.
	Bytes int64 `json:"bytes,omitempty"`
	// Reset closes with RST instead of FIN (Truncate, Hang Timeout).
	Reset bool `json:"reset,omitempty"`

	// TLS: the certificate to serve, for ServerName (default "localhost").
	TLSMode    TLSMode `json:"tlsMode,omitempty"`
	ServerName string  `json:"serverName,omitempty"`
}

// Defaults fills unset optional fields: Per connection (request for Error),
// Direction downstream, Status 503 for Error, TLSMode untrusted.
func (f *Fault) Defaults() {
	if f.Per == "" {
		f.Per = PerConnection
		if f.Type == Error {
			f.Per = PerRequest
		}
	}
	if f.Direction == "" {
		f.Direction = Downstream
	}
	if f.Type == Error && f.Status == 0 && f.GRPCStatus == 0 {
		f.Status = 503
	}
	if f.Type == TLS && f.TLSMode == "" {
		f.TLSMode = TLSUntrusted
	}
}

// Validate reports every problem with f, joined.
func (f *Fault) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if f.ID == "" {
		bad("id is empty")
	}
	switch f.Type {
	case Slow, Hang, Down, Error, Truncate, TLS:
	default:
		bad("type %q is not one of slow, hang, down, error, truncate, tls", f.Type)
	}
	if f.Percent < 0 || f.Percent > 100 || f.Percent != f.Percent {
		bad("percent %v is out of range (0 to 100)", f.Percent)
	}
	switch f.Per {
	case PerConnection, PerChunk, PerRequest:
	default:
		bad("per %q is not one of connection, chunk, request", f.Per)
	}
	switch f.Direction {
	case Upstream, Downstream:
	default:
		bad("direction %q is not one of upstream, downstream", f.Direction)
	}
	if f.Delay < 0 || f.Jitter < 0 || f.Timeout < 0 {
		bad("delay, jitter and timeout must not be negative")
	}
	if f.Rate < 0 || f.AfterBytes < 0 || f.AfterFrames < 0 || f.Bytes < 0 || f.SliceSize < 0 || f.SliceVariation < 0 {
		bad("rate, afterBytes, afterFrames, bytes and slice sizes must not be negative")
	}
	if f.Type == Slow && f.Delay == 0 && f.Jitter == 0 && f.Rate == 0 {
		bad("slow needs delay, jitter or rate")
	}
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		bad("status %d is not an HTTP status", f.Status)
	}
	if f.GRPCStatus < 0 || f.GRPCStatus > 16 {
		bad("grpcStatus %d is not a gRPC code (0 to 16)", f.GRPCStatus)
	}
	if f.Corrupt != "" && f.Corrupt != "corrupt" && f.Corrupt != "truncate" {
		bad("corrupt %q is not one of corrupt, truncate", f.Corrupt)
	}
	if f.Type == TLS {
		switch f.TLSMode {
		case TLSExpired, TLSWrongName, TLSUntrusted:
		default:
			bad("tlsMode %q is not one of expired, wrong-name, untrusted", f.TLSMode)
		}
	}
	if err := validGlob(f.Match.Path); err != nil {
		bad("match path: %w", err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("validate fault %q: %w", f.ID, err)
	}
	return nil
}

// directional reports whether f acts on units flowing in d.
func (f *Fault) directional(d Direction) bool { return f.Direction == d }
