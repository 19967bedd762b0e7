package dep

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/proxy"
)

// The parameter schema reads only a struct's own fields, so every kind's
// params struct repeats the common block below (target, percent, per,
// matchers, direction, framing) and hands it over with common().

// common is the part of every dep.* kind's parameters that is the same.
type common struct {
	Target     string
	Percent    bulwark.Percent
	Per        string
	Method     string
	Path       string
	Header     []string
	Direction  string
	Framing    string
	LengthSize int
	Delimiter  string
	// ResetExisting resets the direct connections open at inject (transparent mode).
	ResetExisting bool
}

// params is implemented by every dep.* params struct.
type params interface {
	common() common
	// fault returns the proxy fault without the parts common sets.
	fault() proxy.Fault
	kindID() string
}

// RequestMatch narrows an HTTP-aware fault to some requests; every dep
// kind embeds it (the parameter schema follows embedded structs).
type RequestMatch struct {
	Method string   `param:"method" help:"only HTTP requests with this method"`
	Path   string   `param:"path" help:"only HTTP requests whose path has this prefix or matches this glob"`
	Header []string `param:"header" help:"only HTTP requests carrying all these headers, k=v (comma-separated)"`
}

// FramingParams say how the proxy cuts a connection into units; every dep
// kind but dep.tls (which frames the decrypted stream) embeds them.
type FramingParams struct {
	Framing    string `param:"framing" default:"auto" enum:"raw,http1,http2,length,delimited,auto" help:"how the proxy cuts connections into units"`
	LengthSize int    `param:"length-size" enum:"1,2,4,8" help:"--framing length: length header bytes (default 4)"`
	Delimiter  string `param:"delimiter" default:"\\n" help:"--framing delimited: the delimiter, Go escapes allowed"`
}

// Existing says what becomes of the connections to the target that are open
// when a transparent fault starts; every dep kind embeds it. The redirect
// catches new connections only, so a pooled client keeps its direct
// connections unless they are reset.
type Existing struct {
	ResetExisting bool `param:"reset-existing" help:"also reset this host's existing direct connections to the target, so pooled clients reconnect through the fault (socket destroy, or conntrack deletion)"`
}

// check validates the common block; each Validate calls it.
func (c common) check() error {
	if _, _, err := splitTarget(c.Target); err != nil {
		return &fault.ParamError{Param: "target", Message: err.Error()}
	}
	for _, h := range c.Header {
		k, _, ok := strings.Cut(h, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t\r\n:") {
			return &fault.ParamError{Param: "header", Message: fmt.Sprintf("%q is not k=v with a header name k", h)}
		}
	}
	if c.Framing == "delimited" {
		if _, err := c.delim(); err != nil {
			return &fault.ParamError{Param: "delimiter", Message: err.Error()}
		}
	}
	if c.LengthSize != 0 && c.LengthSize != 1 && c.LengthSize != 2 && c.LengthSize != 4 && c.LengthSize != 8 {
		return &fault.ParamError{Param: "length-size", Message: fmt.Sprintf("%d is not 1, 2, 4 or 8", c.LengthSize)}
	}
	f := c.apply(proxy.Fault{ID: "check", Type: proxy.Slow, Delay: time.Millisecond})
	f.Defaults()
	if err := f.Validate(); err != nil && c.Path != "" {
		return &fault.ParamError{Param: "path", Message: err.Error()}
	}
	return nil
}

// delim returns the delimiter with its escapes resolved.
func (c common) delim() ([]byte, error) {
	s, err := strconv.Unquote(`"` + strings.ReplaceAll(c.Delimiter, `"`, `\"`) + `"`)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid escaped string", c.Delimiter)
	}
	if s == "" {
		return nil, fmt.Errorf("is empty")
	}
	return []byte(s), nil
}

// apply sets f's probability, granularity, matchers and direction from c.
func (c common) apply(f proxy.Fault) proxy.Fault {
	f.Percent = float64(c.Percent)
	f.Per = proxy.Per(c.Per)
	f.Direction = proxy.Direction(c.Direction)
	f.Match = proxy.Match{Method: strings.ToUpper(c.Method), Path: c.Path}
	if len(c.Header) > 0 {
		f.Match.Header = map[string]string{}
		for _, h := range c.Header {
			k, v, _ := strings.Cut(h, "=")
			f.Match.Header[k] = v
		}
	}
	return f
}

// Framing is the recorded framing choice of a fault: enough to rebuild the
// proxy.Framing in the helper.
type Framing struct {
	Name       string `json:"name"`
	LengthSize int    `json:"lengthSize,omitempty"`
	Delimiter  []byte `json:"delimiter,omitempty"`
	// Heartbeats: empty frames (length) or empty messages (delimited) are
	// heartbeats, for dep.hang --heartbeat.
	Heartbeats bool `json:"heartbeats,omitempty"`
}

// framing returns c's framing record.
func (c common) framing(heartbeats bool) Framing {
	fr := Framing{Name: c.Framing, Heartbeats: heartbeats}
	switch c.Framing {
	case "length":
		fr.LengthSize = c.LengthSize
		if fr.LengthSize == 0 {
			fr.LengthSize = 4
		}
	case "delimited":
		fr.Delimiter, _ = c.delim()
	}
	return fr
}

// Proxy returns the proxy framing the record describes.
func (fr Framing) Proxy() (proxy.Framing, error) {
	switch fr.Name {
	case "", "auto":
		return proxy.Auto{}, nil
	case "raw":
		return proxy.Raw{}, nil
	case "http1":
		return proxy.HTTP1{}, nil
	case "http2":
		return proxy.HTTP2{}, nil
	case "length":
		l := proxy.LengthPrefixed{HeaderSize: fr.LengthSize}
		if fr.Heartbeats {
			n := fr.LengthSize
			l.Heartbeat = func(frame []byte) bool { return len(frame) == n }
		}
		return l, l.Validate()
	case "delimited":
		if len(fr.Delimiter) == 0 {
			return nil, fmt.Errorf("delimited framing without a delimiter")
		}
		d := proxy.Delimited{Delim: fr.Delimiter}
		if fr.Heartbeats {
			n := len(fr.Delimiter)
			d.Heartbeat = func(msg []byte) bool { return len(msg) == n }
		}
		return d, nil
	}
	return nil, fmt.Errorf("unknown framing %q", fr.Name)
}

// splitTarget checks HOST:PORT: HOST is an IP address or a DNS host name
// (letters, digits, hyphens and dots only), PORT is 1 to 65535.
func splitTarget(s string) (host string, port uint16, err error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not HOST:PORT", s)
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 {
		return "", 0, fmt.Errorf("port %q is not 1 to 65535", p)
	}
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Zone() != "" || a.IsUnspecified() || a.IsMulticast() {
			return "", 0, fmt.Errorf("address %s cannot be a dependency (unspecified, multicast or zoned)", h)
		}
		return h, uint16(n), nil
	}
	if !validHostname(h) {
		return "", 0, fmt.Errorf("host %q is neither an IP address nor a host name", h)
	}
	return h, uint16(n), nil
}

// validHostname accepts RFC 1123 host names: dot-separated labels of
// letters, digits and inner hyphens, 253 characters at most.
func validHostname(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// SlowParams are dep.slow's parameters.
type SlowParams struct {
	Target  string          `param:"target,required,target" alias:"address" help:"the dependency, HOST:PORT; HOST is an IP address or a host name resolved once at inject"`
	Percent bulwark.Percent `param:"percent" default:"100" unit:"%" min:"0" max:"100" help:"probability, 0 to 100, that the fault applies, rolled per --per"`
	Per     string          `param:"per" enum:"connection,chunk,request" help:"what --percent is rolled for (default connection)"`
	RequestMatch
	Direction string `param:"direction" enum:"upstream,downstream" help:"downstream delays responses (default), upstream delays requests"`
	FramingParams

	Delay  bulwark.Duration `param:"delay" help:"added latency per unit (per message with --per request)"`
	Jitter bulwark.Duration `param:"jitter" help:"± random spread around --delay"`
	Rate   bulwark.ByteRate `param:"rate" unit:"bytes/s" help:"bandwidth cap (KB/s, MiB/s, …)"`

	Existing
}

func (p *SlowParams) common() common {
	return common{p.Target, p.Percent, p.Per, p.Method, p.Path, p.Header, p.Direction, p.Framing, p.LengthSize, p.Delimiter, p.ResetExisting}
}
func (*SlowParams) kindID() string { return IDSlow }
func (p *SlowParams) fault() proxy.Fault {
	return proxy.Fault{Type: proxy.Slow, Delay: p.Delay.Std(), Jitter: p.Jitter.Std(), Rate: int64(p.Rate)}
}

// Validate implements fault.Validator.
func (p *SlowParams) Validate() error {
	switch {
	case p.Delay < 0 || p.Jitter < 0 || p.Rate < 0:
		return &fault.ParamError{Param: "delay", Message: "delay, jitter and rate must not be negative"}
	case p.Delay == 0 && p.Jitter == 0 && p.Rate == 0:
		return &fault.ParamError{Param: "delay", Message: "dep.slow needs --delay, --jitter or --rate"}
	}
	return p.common().check()
}

// HangParams are dep.hang's parameters.
type HangParams struct {
	Target  string          `param:"target,required,target" alias:"address" help:"the dependency, HOST:PORT; HOST is an IP address or a host name resolved once at inject"`
	Percent bulwark.Percent `param:"percent" default:"100" unit:"%" min:"0" max:"100" help:"probability, 0 to 100, that the fault applies, rolled per --per"`
	Per     string          `param:"per" enum:"connection,chunk,request" help:"what --percent is rolled for (default connection)"`
	RequestMatch
	Direction string `param:"direction" enum:"upstream,downstream" help:"which flow stalls after --after-bytes/--after-frames (default downstream)"`
	FramingParams

	AfterBytes  bulwark.ByteSize `param:"after-bytes" unit:"bytes" help:"stall mid-stream after this many bytes (0: hold new connections from the start)"`
	AfterFrames int64            `param:"after-frames" min:"0" help:"stall after this many units/frames"`
	Heartbeat   bool             `param:"heartbeat" help:"keep passing heartbeats (HTTP/2 PING; empty length-prefixed frames or empty delimited messages) and hold the rest"`

	Existing
}

func (p *HangParams) common() common {
	return common{p.Target, p.Percent, p.Per, p.Method, p.Path, p.Header, p.Direction, p.Framing, p.LengthSize, p.Delimiter, p.ResetExisting}
}
func (*HangParams) kindID() string { return IDHang }
func (p *HangParams) fault() proxy.Fault {
	return proxy.Fault{Type: proxy.Hang, AfterBytes: int64(p.AfterBytes), AfterFrames: p.AfterFrames, Heartbeats: p.Heartbeat}
}

// Validate implements fault.Validator.
func (p *HangParams) Validate() error {
	if p.AfterBytes < 0 {
		return &fault.ParamError{Param: "after-bytes", Message: "must not be negative"}
	}
	return p.common().check()
}

// DownParams are dep.down's parameters.
type DownParams struct {
	Target  string          `param:"target,required,target" alias:"address" help:"the dependency, HOST:PORT; HOST is an IP address or a host name resolved once at inject"`
	Percent bulwark.Percent `param:"percent" default:"100" unit:"%" min:"0" max:"100" help:"probability, 0 to 100, that a new connection is refused"`
	Per     string          `param:"per" enum:"connection,chunk,request" help:"what --percent is rolled for (default connection)"`
	RequestMatch
	Direction string `param:"direction" enum:"upstream,downstream" help:"unused by dep.down (kept for a uniform interface)"`
	FramingParams

	Existing
}

func (p *DownParams) common() common {
	return common{p.Target, p.Percent, p.Per, p.Method, p.Path, p.Header, p.Direction, p.Framing, p.LengthSize, p.Delimiter, p.ResetExisting}
}
func (*DownParams) kindID() string { return IDDown }
func (p *DownParams) fault() proxy.Fault {
	return proxy.Fault{Type: proxy.Down, ResetExisting: p.ResetExisting}
}

// Validate implements fault.Validator.
func (p *DownParams) Validate() error { return p.common().check() }

// ErrorParams are dep.error's parameters.
type ErrorParams struct {
	Target  string          `param:"target,required,target" alias:"address" help:"the dependency, HOST:PORT; HOST is an IP address or a host name resolved once at inject"`
	Percent bulwark.Percent `param:"percent" default:"100" unit:"%" min:"0" max:"100" help:"probability, 0 to 100, that the fault applies, rolled per --per"`
	Per     string          `param:"per" enum:"connection,chunk,request" help:"what --percent is rolled for (default request)"`
	RequestMatch
	Direction string `param:"direction" enum:"upstream,downstream" help:"raw --corrupt/--truncate: which flow (default downstream)"`
	FramingParams

	Status     int    `param:"status" min:"100" max:"599" help:"HTTP status to answer with (default 503)"`
	Body       string `param:"body" help:"HTTP body to answer with"`
	GRPCStatus int    `param:"grpc-status" min:"1" max:"16" help:"gRPC status code for gRPC requests (default derived from --status)"`
	Corrupt    bool   `param:"corrupt" help:"non-HTTP traffic: corrupt the bytes of each unit the fault applies to"`
	Truncate   bool   `param:"truncate" help:"non-HTTP traffic: truncate each unit the fault applies to"`

	Existing
}

func (p *ErrorParams) common() common {
	return common{p.Target, p.Percent, p.Per, p.Method, p.Path, p.Header, p.Direction, p.Framing, p.LengthSize, p.Delimiter, p.ResetExisting}
}
func (*ErrorParams) kindID() string { return IDError }
func (p *ErrorParams) fault() proxy.Fault {
	f := proxy.Fault{Type: proxy.Error, Status: p.Status, Body: p.Body, GRPCStatus: p.GRPCStatus}
	switch {
	case p.Truncate:
		f.Corrupt = "truncate"
	case p.Corrupt:
		f.Corrupt = "corrupt"
	}
	return f
}

// Validate implements fault.Validator.
func (p *ErrorParams) Validate() error {
	if p.Corrupt && p.Truncate {
		return &fault.ParamError{Param: "truncate", Message: "give --corrupt or --truncate, not both"}
	}
	return p.common().check()
}

// TruncateParams are dep.truncate's parameters.
type TruncateParams struct {
	Target  string          `param:"target,required,target" alias:"address" help:"the dependency, HOST:PORT; HOST is an IP address or a host name resolved once at inject"`
	Percent bulwark.Percent `param:"percent" default:"100" unit:"%" min:"0" max:"100" help:"probability, 0 to 100, that the fault applies, rolled per --per"`
	Per     string          `param:"per" enum:"connection,chunk,request" help:"connection: --bytes per connection; chunk or request: per unit or message (default connection)"`
	RequestMatch
	Direction string `param:"direction" enum:"upstream,downstream" help:"which flow is cut (default downstream)"`
	FramingParams

	Bytes bulwark.ByteSize `param:"bytes" unit:"bytes" help:"bytes let through before the connection is closed (0 with --per chunk/request: half of the unit)"`

	Existing
}

func (p *TruncateParams) common() common {
	return common{p.Target, p.Percent, p.Per, p.Method, p.Path, p.Header, p.Direction, p.Framing, p.LengthSize, p.Delimiter, p.ResetExisting}
}
func (*TruncateParams) kindID() string { return IDTruncate }
func (p *TruncateParams) fault() proxy.Fault {
	return proxy.Fault{Type: proxy.Truncate, Bytes: int64(p.Bytes)}
}

// Validate implements fault.Validator.
func (p *TruncateParams) Validate() error {
	if p.Bytes < 0 {
		return &fault.ParamError{Param: "bytes", Message: "must not be negative"}
	}
	return p.common().check()
}

// TLSParams are dep.tls's parameters.
type TLSParams struct {
	Target  string          `param:"target,required,target" alias:"address" help:"the dependency, HOST:PORT; HOST is an IP address or a host name resolved once at inject"`
	Percent bulwark.Percent `param:"percent" default:"100" unit:"%" min:"0" max:"100" help:"probability, 0 to 100, that a connection gets the bad certificate"`
	Per     string          `param:"per" enum:"connection,chunk,request" help:"what --percent is rolled for (default connection)"`
	RequestMatch
	Direction  string `param:"direction" enum:"upstream,downstream" help:"unused by dep.tls (kept for a uniform interface)"`
	Framing    string `param:"framing" default:"auto" enum:"raw,http1,http2,length,delimited,auto" help:"how the proxy cuts the decrypted stream into units"`
	LengthSize int    `param:"length-size" enum:"1,2,4,8" help:"--framing length: length header bytes (default 4)"`
	Delimiter  string `param:"delimiter" default:"\\n" help:"--framing delimited: the delimiter, Go escapes allowed"`

	Cert       string `param:"cert" default:"untrusted" enum:"expired,wrong-name,untrusted" help:"the bad certificate to serve"`
	ServerName string `param:"server-name" help:"the name the certificate is for (default: the target's host)"`

	Existing
}

func (p *TLSParams) common() common {
	return common{p.Target, p.Percent, p.Per, p.Method, p.Path, p.Header, p.Direction, p.Framing, p.LengthSize, p.Delimiter, p.ResetExisting}
}
func (*TLSParams) kindID() string { return IDTLS }
func (p *TLSParams) fault() proxy.Fault {
	name := p.ServerName
	if name == "" {
		name, _, _ = splitTarget(p.Target)
	}
	return proxy.Fault{Type: proxy.TLS, TLSMode: proxy.TLSMode(p.Cert), ServerName: name}
}

// Validate implements fault.Validator.
func (p *TLSParams) Validate() error {
	if p.ServerName != "" && !validHostname(p.ServerName) {
		return &fault.ParamError{Param: "server-name", Message: fmt.Sprintf("%q is not a host name", p.ServerName)}
	}
	return p.common().check()
}

// proxyFault builds the whole proxy fault of p, with id, defaults filled in
// and validated; an invalid result is a *fault.ParamError.
func proxyFault(p params, id string) (proxy.Fault, error) {
	f := p.common().apply(p.fault())
	f.ID = id
	f.Defaults()
	if err := f.Validate(); err != nil {
		return f, &fault.ParamError{Param: paramOf(f.Type), Message: err.Error()}
	}
	return f, nil
}

// paramOf names the parameter most likely at fault for an invalid proxy
// fault of type t.
func paramOf(t proxy.Type) string {
	switch t {
	case proxy.Slow:
		return "delay"
	case proxy.Error:
		return "status"
	case proxy.Truncate:
		return "bytes"
	case proxy.TLS:
		return "cert"
	}
	return "target"
}

var (
	_ fault.Validator = (*SlowParams)(nil)
	_ fault.Validator = (*HangParams)(nil)
	_ fault.Validator = (*DownParams)(nil)
	_ fault.Validator = (*ErrorParams)(nil)
	_ fault.Validator = (*TruncateParams)(nil)
	_ fault.Validator = (*TLSParams)(nil)
	_ params          = (*SlowParams)(nil)
	_ params          = (*HangParams)(nil)
	_ params          = (*DownParams)(nil)
	_ params          = (*ErrorParams)(nil)
	_ params          = (*TruncateParams)(nil)
	_ params          = (*TLSParams)(nil)
)
