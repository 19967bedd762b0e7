package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// apiClient talks to `bulwark server`'s REST API for the commands that take
// --server (DESIGN §5: the CLI reads BULWARK_SERVER and BULWARK_TOKEN when
// --server/--token are absent).
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

// newAPIClient returns a client for server (or BULWARK_SERVER) with token
// (or BULWARK_TOKEN); ok is false when no server is configured.
func newAPIClient(env *Env, server, token string) (c *apiClient, ok bool, err error) {
	if server == "" {
		server = env.Getenv("BULWARK_SERVER")
	}
	if server == "" {
		return nil, false, nil
	}
	if token == "" {
		token = env.Getenv("BULWARK_TOKEN")
	}
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false, usagef("--server: %q is not an http(s) URL", server)
	}
	if token == "" {
		return nil, false, usagef("--token: required with --server (or set BULWARK_TOKEN)")
	}
	return &apiClient{base: strings.TrimRight(server, "/"), token: token, http: &http.Client{Timeout: 2 * time.Minute}}, true, nil
}

// do sends body (JSON-encoded unless it is []byte) and decodes a 2xx answer
// into out. An error answer becomes a *bulwark.Error with the server's code.
func (c *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, contentType = bytes.NewReader(b), "application/yaml"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if rd != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return bulwark.Errorf(bulwark.EUNAVAILABLE, "server %s: %v", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error.Code != "" {
			return &bulwark.Error{Code: e.Error.Code, Message: e.Error.Message}
		}
		return bulwark.Errorf(bulwark.EINTERNAL, "server %s: %s %s: %s", c.base, method, path, resp.Status)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return nil
}

// raw GETs path and returns the body of a 2xx answer as is.
func (c *apiClient) raw(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, bulwark.Errorf(bulwark.EUNAVAILABLE, "server %s: %v", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, bulwark.Errorf(bulwark.EINTERNAL, "GET %s: %s", path, resp.Status)
	}
	return data, nil
}
