package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// LocalClient talks to a running agent over its agent.sock. It implements
// bulwark.FaultService, so `bulwark fault …` uses it in place of the host
// manager while an agent holds the state directory.
type LocalClient struct {
	path string
	http *http.Client
}

var _ bulwark.FaultService = (*LocalClient)(nil)

// DialLocal returns a client for the agent serving stateDir's agent.sock,
// or false when no agent answers there.
func DialLocal(ctx context.Context, stateDir string) (*LocalClient, bool) {
	c := NewLocalClient(SocketPath(stateDir))
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := c.do(ctx, http.MethodGet, "/v1/ping", nil, &map[string]string{}); err != nil {
		return nil, false
	}
	return c, true
}

// NewLocalClient returns a client for the socket at path.
func NewLocalClient(path string) *LocalClient {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &LocalClient{path: path, http: &http.Client{Transport: tr}}
}

// Inject implements bulwark.FaultService.
func (c *LocalClient) Inject(ctx context.Context, spec bulwark.FaultSpec) (*bulwark.Fault, error) {
	var f bulwark.Fault
	if err := c.do(ctx, http.MethodPost, "/v1/faults", spec, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// Faults implements bulwark.FaultService (only the Live flag is honoured).
func (c *LocalClient) Faults(ctx context.Context, filter bulwark.FaultFilter) ([]*bulwark.Fault, error) {
	path := "/v1/faults"
	if !filter.Live {
		path += "?all=1"
	}
	var body faultsBody
	err := c.do(ctx, http.MethodGet, path, nil, &body)
	return body.Faults, err
}

// Recover implements bulwark.FaultService.
func (c *LocalClient) Recover(ctx context.Context, ids ...string) ([]*bulwark.Fault, error) {
	return c.recover(ctx, recoverBody{IDs: ids})
}

// RecoverAll implements bulwark.FaultService: halt-local, every live fault
// on the host, the server's included.
func (c *LocalClient) RecoverAll(ctx context.Context) ([]*bulwark.Fault, error) {
	return c.recover(ctx, recoverBody{All: true})
}

// Sweep implements bulwark.FaultService.
func (c *LocalClient) Sweep(ctx context.Context) ([]*bulwark.Fault, error) {
	var body faultsBody
	err := c.do(ctx, http.MethodPost, "/v1/sweep", struct{}{}, &body)
	return body.Faults, err
}

func (c *LocalClient) recover(ctx context.Context, req recoverBody) ([]*bulwark.Fault, error) {
	var body faultsBody
	err := c.do(ctx, http.MethodPost, "/v1/recover", req, &body)
	return body.Faults, err
}

// Close releases idle connections.
func (c *LocalClient) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

func (c *LocalClient) do(ctx context.Context, method, path string, in, out any) error {
	var body bytes.Buffer
	if in != nil {
		if err := json.NewEncoder(&body).Encode(in); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://agent"+path, &body)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("agent.sock %s: %w", c.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	var eb struct {
		Error  errorBodyInner  `json:"error"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil {
		return fmt.Errorf("agent.sock %s: status %s", c.path, resp.Status)
	}
	if len(eb.Result) > 0 {
		_ = json.Unmarshal(eb.Result, out)
	}
	return &bulwark.Error{Code: eb.Error.Code, Message: eb.Error.Message}
}

type errorBodyInner struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
