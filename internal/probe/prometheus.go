package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/bulwarkhq/bulwark"
)

func init() {
	Register(Kind{Name: "prometheus", NewConfig: func() Config { return &PrometheusConfig{} }})
}

// PrometheusConfig is a prometheus probe: a PromQL instant query against a
// Prometheus-compatible HTTP API (Prometheus, Thanos, VictoriaMetrics,
// Mimir), OK when every sample of the result satisfies "value Op Threshold".
type PrometheusConfig struct {
	// URL is the API's base, e.g. http://prometheus:9090 (the probe adds
	// /api/v1/query).
	URL       string  `json:"url" yaml:"url"`
	Query     string  `json:"query" yaml:"query"`
	Op        Op      `json:"op" yaml:"op"`
	Threshold float64 `json:"threshold" yaml:"threshold"`
	// Timeout bounds the request and is passed to the server; 0 means 2s.
	Timeout bulwark.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// Headers are added to the request (an Authorization header, a tenant id).
	Headers map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
}

// Validate implements Config.
func (c *PrometheusConfig) Validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); c.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("url: %q is not an http(s) URL", c.URL))
	}
	if strings.TrimSpace(c.Query) == "" {
		errs = append(errs, errors.New("query: required"))
	}
	if err := c.Op.Validate(); err != nil {
		errs = append(errs, err)
	}
	if math.IsNaN(c.Threshold) {
		errs = append(errs, errors.New("threshold: NaN"))
	}
	return errors.Join(errs...)
}

// Build implements Config.
func (c *PrometheusConfig) Build(name string, opts Options) (Probe, error) {
	return &promProbe{name: name, cfg: *c, opts: opts, client: newHTTPClient(0)}, nil
}

type promProbe struct {
	name   string
	cfg    PrometheusConfig
	opts   Options
	client *http.Client
}

func (p *promProbe) Name() string { return p.name }

func (p *promProbe) Close() error {
	p.client.CloseIdleConnections()
	return nil
}

func (p *promProbe) Check(ctx context.Context) Result {
	timeout := p.cfg.Timeout.Std()
	if timeout == 0 {
		timeout = defaultTimeout
	}
	return timed(ctx, p.opts, timeout, func(ctx context.Context) (*float64, error) {
		vals, err := p.query(ctx, timeout.String())
		if err != nil {
			return nil, err
		}
		return judge(vals, p.cfg.Op, p.cfg.Threshold)
	})
}

// judge checks every value against the threshold. It returns the first value
// that fails, or the first value when all hold.
func judge(vals []float64, op Op, threshold float64) (*float64, error) {
	if len(vals) == 0 {
		return nil, errors.New("query returned no samples")
	}
	for _, v := range vals {
		if !op.Holds(v, threshold) {
			return &v, fmt.Errorf("value %s %s %s is false", formatFloat(v), op, formatFloat(threshold))
		}
	}
	return &vals[0], nil
}

// promResponse is the envelope of /api/v1/query.
type promResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// query runs the instant query and returns the values of its samples.
func (p *promProbe) query(ctx context.Context, timeout string) ([]float64, error) {
	u := strings.TrimSuffix(p.cfg.URL, "/") + "/api/v1/query"
	form := url.Values{"query": {p.cfg.Query}, "timeout": {timeout}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"?"+form.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("build query: %w", err)
	}
	for k, v := range p.cfg.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var pr promResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&pr); err != nil {
		return nil, fmt.Errorf("decode query response (HTTP %d): %w", resp.StatusCode, err)
	}
	if pr.Status != "success" {
		return nil, fmt.Errorf("query failed (HTTP %d): %s: %s", resp.StatusCode, pr.ErrorType, pr.Error)
	}
	return promValues(pr.Data.ResultType, pr.Data.Result)
}

// promValues extracts the sample values of a vector, scalar or matrix result
// (a matrix uses each series' last sample).
func promValues(resultType string, raw json.RawMessage) ([]float64, error) {
	type series struct {
		Value  []any   `json:"value"`
		Values [][]any `json:"values"`
	}
	var pairs [][]any
	switch resultType {
	case "scalar":
		var pair []any
		if err := json.Unmarshal(raw, &pair); err != nil {
			return nil, fmt.Errorf("decode scalar: %w", err)
		}
		pairs = append(pairs, pair)
	case "vector", "matrix":
		var ss []series
		if err := json.Unmarshal(raw, &ss); err != nil {
			return nil, fmt.Errorf("decode %s: %w", resultType, err)
		}
		for _, s := range ss {
			if s.Value != nil {
				pairs = append(pairs, s.Value)
			} else if len(s.Values) > 0 {
				pairs = append(pairs, s.Values[len(s.Values)-1])
			}
		}
	default:
		return nil, fmt.Errorf("result type %q has no numeric value", resultType)
	}
	vals := make([]float64, 0, len(pairs))
	for _, pair := range pairs {
		s, ok := pairValue(pair)
		if !ok {
			return nil, fmt.Errorf("malformed sample %v", pair)
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("sample value %q: %w", s, err)
		}
		vals = append(vals, v)
	}
	return vals, nil
}

// pairValue returns the value of a [timestamp, "value"] pair.
func pairValue(pair []any) (string, bool) {
	if len(pair) != 2 {
		return "", false
	}
	s, ok := pair[1].(string)
	return s, ok
}

var (
	_ Config = (*PrometheusConfig)(nil)
	_ Probe  = (*promProbe)(nil)
)
