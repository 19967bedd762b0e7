// Package changegate is the HTTP adapter of policy.ChangeGate: it asks the
// firm's change-management system whether a ticket is approved for these
// hosts in this window, and tells it when a drill starts and ends, its
// verdict and where its report is.
//
// Check POSTs the policy.TicketQuery as JSON ({ticket, hosts, systems,
// environment, start, end}) to CheckURL and reads {approved, windowStart,
// windowEnd, hosts}. Notify POSTs a policy.Notice to NotifyURL. An optional
// bearer token is read from TokenFile on every call, so a rotated token is
// picked up without a restart. Any failure (unreachable, timeout, non-2xx,
// malformed answer) is an error, and the policy gate then denies: the gate
// fails closed.
package changegate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/policy"
)

// DefaultTimeout bounds one call when Client.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// maxAnswer bounds the answer read from the change system.
const maxAnswer = 1 << 20

// Client calls a change-management system over HTTP.
type Client struct {
	CheckURL  string        // where tickets are checked; required
	NotifyURL string        // where notices go; empty disables notices
	TokenFile string        // file holding a bearer token; empty sends none
	Timeout   time.Duration // per call; zero means DefaultTimeout
	HTTP      *http.Client  // nil means a client with no other settings
}

var _ policy.ChangeGate = (*Client)(nil)

// answer is the change system's reply; Approved is a pointer so that a
// reply without it is refused rather than read as false silently.
type answer struct {
	Approved    *bool     `json:"approved"`
	WindowStart time.Time `json:"windowStart"`
	WindowEnd   time.Time `json:"windowEnd"`
	Hosts       []string  `json:"hosts"`
}

// Check implements policy.ChangeGate.
func (c *Client) Check(ctx context.Context, q policy.TicketQuery) (policy.TicketAnswer, error) {
	if c.CheckURL == "" {
		return policy.TicketAnswer{}, errors.New("change gate: no check URL configured")
	}
	q.Start, q.End = q.Start.UTC(), q.End.UTC()
	body, err := c.post(ctx, c.CheckURL, q)
	if err != nil {
		return policy.TicketAnswer{}, err
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return policy.TicketAnswer{}, fmt.Errorf("change gate: answer is not JSON {approved, windowStart, windowEnd, hosts}: %v", err)
	}
	if a.Approved == nil {
		return policy.TicketAnswer{}, errors.New(`change gate: answer has no "approved"`)
	}
	return policy.TicketAnswer{Approved: *a.Approved, WindowStart: a.WindowStart, WindowEnd: a.WindowEnd, Hosts: a.Hosts}, nil
}

// Notify implements policy.ChangeGate. Without a NotifyURL it does nothing.
func (c *Client) Notify(ctx context.Context, n policy.Notice) error {
	if c.NotifyURL == "" {
		return nil
	}
	n.Time = n.Time.UTC()
	_, err := c.post(ctx, c.NotifyURL, n)
	return err
}

func (c *Client) post(ctx context.Context, url string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("change gate: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.TokenFile != "" {
		tok, err := os.ReadFile(c.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("change gate: read token file: %v", err)
		}
		if t := strings.TrimSpace(string(tok)); t != "" {
			req.Header.Set("Authorization", "Bearer "+t)
		}
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("change gate unreachable: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("change gate: read answer: %v", err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("change gate answered %s: %s", resp.Status, firstLine(body))
	}
	return body, nil
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
