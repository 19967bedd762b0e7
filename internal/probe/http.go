package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
)

func init() {
	Register(Kind{Name: "http", NewConfig: func() Config { return &HTTPConfig{} }})
}

// maxBody is how much of a response body a probe reads (and discards) so a
// kept-alive connection can be reused.
const maxBody = 1 << 20

// HTTPConfig is an http probe: one request per check, on a new connection
// unless KeepAlive, as a monitoring system's synthetic check makes it (a
// transparent dependency fault catches new connections only).
type HTTPConfig struct {
	URL string `json:"url" yaml:"url"`
	// Method defaults to GET.
	Method string `json:"method,omitempty" yaml:"method,omitempty"`
	// ExpectStatus lists the statuses that count as success; empty means 200–299.
	ExpectStatus []int `json:"expectStatus,omitempty" yaml:"expectStatus,omitempty"`
	// Timeout bounds the whole request including the body; 0 means 2s.
	Timeout bulwark.Duration  `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	Headers map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
	Body    string            `json:"body,omitempty" yaml:"body,omitempty"`
	// KeepAlive reuses the connection across checks, as a pooled client
	// does; a fault on new connections then reaches the probe only once
	// that connection breaks.
	KeepAlive bool `json:"keepAlive,omitempty" yaml:"keepAlive,omitempty"`
}

// Validate implements Config.
func (c *HTTPConfig) Validate() error {
	var errs []error
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		errs = append(errs, errors.New("url: required"))
	case err != nil:
		errs = append(errs, fmt.Errorf("url: %w", err))
	case u.Scheme != "http" && u.Scheme != "https":
		errs = append(errs, fmt.Errorf("url: scheme must be http or https, not %q", u.Scheme))
	case u.Host == "":
		errs = append(errs, errors.New("url: no host"))
	}
	for _, s := range c.ExpectStatus {
		if s < 100 || s > 599 {
			errs = append(errs, fmt.Errorf("expectStatus: %d is not an HTTP status", s))
		}
	}
	if c.Method != "" && strings.ContainsAny(c.Method, " \t\r\n") {
		errs = append(errs, fmt.Errorf("method: %q is not a method", c.Method))
	}
	return errors.Join(errs...)
}

// Build implements Config.
func (c *HTTPConfig) Build(name string, opts Options) (Probe, error) {
	client := newHTTPClient(0)
	client.Transport.(*http.Transport).DisableKeepAlives = !c.KeepAlive
	return &httpProbe{name: name, cfg: *c, opts: opts, client: client}, nil
}

// newHTTPClient returns a client with its own transport, so Close can drop its
// idle connections; maxConns 0 means unlimited.
func newHTTPClient(maxConns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost = maxConns
	t.MaxIdleConnsPerHost = max(maxConns, 2)
	return &http.Client{Transport: t}
}

type httpProbe struct {
	name   string
	cfg    HTTPConfig
	opts   Options
	client *http.Client
}

func (p *httpProbe) Name() string { return p.name }

func (p *httpProbe) Close() error {
	p.client.CloseIdleConnections()
	return nil
}

func (p *httpProbe) Check(ctx context.Context) Result {
	return timed(ctx, p.opts, p.timeout(), func(ctx context.Context) (*float64, error) {
		return nil, p.do(ctx)
	})
}

func (p *httpProbe) timeout() time.Duration {
	if p.cfg.Timeout > 0 {
		return p.cfg.Timeout.Std()
	}
	return defaultTimeout
}

// do sends one request and checks its status.
func (p *httpProbe) do(ctx context.Context) error {
	method := p.cfg.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if p.cfg.Body != "" {
		body = strings.NewReader(p.cfg.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.cfg.URL, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	for k, v := range p.cfg.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", "bulwark-probe/"+bulwark.Version)
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody)); err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if !statusOK(resp.StatusCode, p.cfg.ExpectStatus) {
		return fmt.Errorf("status %d, want %s", resp.StatusCode, wantStatus(p.cfg.ExpectStatus))
	}
	return nil
}

func statusOK(code int, expect []int) bool {
	if len(expect) == 0 {
		return code >= 200 && code <= 299
	}
	return slices.Contains(expect, code)
}

func wantStatus(expect []int) string {
	if len(expect) == 0 {
		return "2xx"
	}
	return fmt.Sprint(expect)
}

var (
	_ Config = (*HTTPConfig)(nil)
	_ Probe  = (*httpProbe)(nil)
)
