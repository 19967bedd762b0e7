package drill

import (
	"encoding/json"

	"github.com/bulwarkhq/bulwark"
)

// Probe is one steady-state probe. Exactly one of HTTP, TCP, Command,
// Prometheus, SQL and Load is set.
type Probe struct {
	Name       string           `yaml:"name" json:"name" req:"true" pattern:"^[a-z][a-z0-9-]*$" doc:"used in abort expressions as NAME.metric"`
	HTTP       *HTTPCheck       `yaml:"http,omitempty" json:"http,omitempty"`
	TCP        *TCPCheck        `yaml:"tcp,omitempty" json:"tcp,omitempty"`
	Command    *CommandCheck    `yaml:"command,omitempty" json:"command,omitempty"`
	Prometheus *PrometheusCheck `yaml:"prometheus,omitempty" json:"prometheus,omitempty"`
	SQL        *SQLCheck        `yaml:"sql,omitempty" json:"sql,omitempty"`
	Load       *LoadCheck       `yaml:"load,omitempty" json:"load,omitempty"`
	Interval   bulwark.Duration `yaml:"interval,omitempty" json:"interval,omitempty" doc:"time between samples (default 1s)"`
	Timeout    bulwark.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty" doc:"per-sample timeout when the check sets none (default 1s)"`
	Tolerance  *Tolerance       `yaml:"tolerance,omitempty" json:"tolerance,omitempty"`
	From       *From            `yaml:"from,omitempty" json:"from,omitempty" doc:"local, or a selector naming the agents that run the probe"`
}

// Tolerance is what a probe must achieve in each phase (contract 5).
type Tolerance struct {
	MinSuccessRate *float64         `yaml:"minSuccessRate,omitempty" json:"minSuccessRate,omitempty" min:"0" max:"1" doc:"successes ÷ samples, 0 to 1"`
	MaxP99         bulwark.Duration `yaml:"maxP99,omitempty" json:"maxP99,omitempty" doc:"nearest-rank p99 of successful samples"`
	MinSamples     int              `yaml:"minSamples,omitempty" json:"minSamples,omitempty" min:"1" doc:"fewer samples in a phase is an error (default 5)"`
}

// HTTPCheck is one HTTP request and what its answer must be.
type HTTPCheck struct {
	URL          string            `yaml:"url" json:"url" req:"true"`
	Method       string            `yaml:"method,omitempty" json:"method,omitempty" doc:"default GET"`
	ExpectStatus []int             `yaml:"expectStatus,omitempty" json:"expectStatus,omitempty" doc:"accepted statuses (default 200–299)"`
	Timeout      bulwark.Duration  `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	Headers      map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	Body         string            `yaml:"body,omitempty" json:"body,omitempty"`
	KeepAlive    bool              `yaml:"keepAlive,omitempty" json:"keepAlive,omitempty" doc:"reuse one connection across samples, as a pooled client does (default: a new connection per sample; a load always reuses its connections)"`
}

// TCPCheck connects to an address.
type TCPCheck struct {
	Address string           `yaml:"address" json:"address" req:"true" doc:"host:port"`
	Timeout bulwark.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// CommandCheck runs an allow-listed executable without a shell (DESIGN §6.9).
type CommandCheck struct {
	Argv       []string         `yaml:"argv" json:"argv" req:"true" doc:"executable and arguments; never run through a shell"`
	ExpectExit int              `yaml:"expectExit,omitempty" json:"expectExit,omitempty" doc:"default 0"`
	Timeout    bulwark.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// PrometheusCheck runs a PromQL instant query and compares its value.
type PrometheusCheck struct {
	URL       string           `yaml:"url" json:"url" req:"true" doc:"base URL of a Prometheus-compatible HTTP API"`
	Query     string           `yaml:"query" json:"query" req:"true"`
	Op        string           `yaml:"op" json:"op" req:"true" enum:"<,<=,>,>=,==,!="`
	Threshold *float64         `yaml:"threshold" json:"threshold" req:"true"`
	Timeout   bulwark.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// SQLCheck runs a query; rows are never stored.
type SQLCheck struct {
	Driver  string           `yaml:"driver" json:"driver" req:"true" enum:"postgres,mysql,oracle"`
	DSN     string           `yaml:"dsn" json:"dsn" req:"true" doc:"connection string; ${VAR} is expanded from the environment at run time"`
	Query   string           `yaml:"query" json:"query" req:"true"`
	Expect  string           `yaml:"expect,omitempty" json:"expect,omitempty" doc:"first column of the first row, as text; empty: the query succeeding is enough"`
	Timeout bulwark.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// LoadCheck sends synthetic transactions at a fixed rate; each one is a
// sample. In production-class environments it must be query-only.
type LoadCheck struct {
	HTTP        HTTPCheck `yaml:"http" json:"http" req:"true"`
	Rate        float64   `yaml:"rate" json:"rate" req:"true" doc:"requests per second, above 0"`
	Concurrency int       `yaml:"concurrency,omitempty" json:"concurrency,omitempty" min:"1" doc:"requests in flight at most (default 1)"`
}

// From says where a probe runs (contract 2): Local, or on the agents
// Selector names. A nil *From means local for a standalone run.
type From struct {
	Local    bool
	Selector *bulwark.Selector
}

// IsLocal reports whether the probe runs in the engine's process.
func (f *From) IsLocal() bool { return f == nil || f.Local }

// MarshalYAML writes "local" or the selector.
func (f From) MarshalYAML() (any, error) {
	if f.Local {
		return "local", nil
	}
	return f.Selector, nil
}

// MarshalJSON writes "local" or the selector.
func (f From) MarshalJSON() ([]byte, error) {
	if f.Local {
		return []byte(`"local"`), nil
	}
	return json.Marshal(f.Selector)
}

// CheckTimeout returns the timeout of one sample: the check's own, else the
// probe's, else DefaultTimeout.
func (p *Probe) CheckTimeout() bulwark.Duration {
	var own bulwark.Duration
	switch {
	case p.HTTP != nil:
		own = p.HTTP.Timeout
	case p.TCP != nil:
		own = p.TCP.Timeout
	case p.Command != nil:
		own = p.Command.Timeout
	case p.Prometheus != nil:
		own = p.Prometheus.Timeout
	case p.SQL != nil:
		own = p.SQL.Timeout
	case p.Load != nil:
		own = p.Load.HTTP.Timeout
	}
	if own != 0 {
		return own
	}
	return p.Timeout
}

// CheckKind returns which check the probe runs: "http", "tcp", "command",
// "prometheus", "sql" or "load".
func (p *Probe) CheckKind() string {
	for _, c := range p.checks() {
		if c.set {
			return c.name
		}
	}
	return ""
}

type checkSet struct {
	name string
	set  bool
}

func (p *Probe) checks() []checkSet {
	return []checkSet{
		{"http", p.HTTP != nil}, {"tcp", p.TCP != nil}, {"command", p.Command != nil},
		{"prometheus", p.Prometheus != nil}, {"sql", p.SQL != nil}, {"load", p.Load != nil},
	}
}
