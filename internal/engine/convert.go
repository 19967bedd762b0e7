package engine

import (
	"fmt"
	"strconv"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/drill"
	"github.com/bulwarkhq/bulwark/internal/probe"
)

// probeConfig turns a drill file's probe into the probe package's
// configuration.
func probeConfig(p *drill.Probe) (probe.Config, error) {
	timeout := p.CheckTimeout()
	switch {
	case p.HTTP != nil:
		return httpConfig(*p.HTTP, timeout), nil
	case p.TCP != nil:
		return &probe.TCPConfig{Address: p.TCP.Address, Timeout: timeout}, nil
	case p.Command != nil:
		return &probe.CommandConfig{Argv: p.Command.Argv, ExpectExit: p.Command.ExpectExit, Timeout: timeout}, nil
	case p.Prometheus != nil:
		c := p.Prometheus
		return &probe.PrometheusConfig{URL: c.URL, Query: c.Query, Op: probe.Op(c.Op), Threshold: *c.Threshold, Timeout: timeout}, nil
	case p.SQL != nil:
		return sqlConfig(p.SQL, timeout)
	case p.Load != nil:
		return &probe.LoadConfig{HTTPConfig: *httpConfig(p.Load.HTTP, timeout), Rate: p.Load.Rate, Concurrency: p.Load.Concurrency}, nil
	}
	return nil, fmt.Errorf("probe %s: no check", p.Name)
}

func httpConfig(c drill.HTTPCheck, timeout bulwark.Duration) *probe.HTTPConfig {
	out := &probe.HTTPConfig{URL: c.URL, Method: c.Method, ExpectStatus: c.ExpectStatus, Headers: c.Headers, Body: c.Body, Timeout: c.Timeout, KeepAlive: c.KeepAlive}
	if out.Timeout == 0 {
		out.Timeout = timeout
	}
	return out
}

func sqlConfig(c *drill.SQLCheck, timeout bulwark.Duration) (probe.Config, error) {
	out := &probe.SQLConfig{Driver: c.Driver, DSN: c.DSN, Query: c.Query, Timeout: timeout}
	if c.Expect != "" {
		v, err := strconv.ParseFloat(c.Expect, 64)
		if err != nil {
			return nil, fmt.Errorf("sql probe: expect %q: only numeric values are compared", c.Expect)
		}
		out.Expect = &probe.SQLExpect{Op: "==", Value: v, MinRows: 1}
	}
	return out, nil
}
