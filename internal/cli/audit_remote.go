package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/audit"
)

// runAuditVerifyRemote asks the server to verify its log (GET
// /api/v1/audit/verify: 200 intact, 409 with the report when not).
func runAuditVerifyRemote(ctx context.Context, g *globals, o auditVerifyOptions, w io.Writer) error {
	c, _, err := newAPIClient(g.env, o.server, o.token)
	if err != nil {
		return err
	}
	rep, err := c.auditVerify(ctx)
	if err != nil {
		return err
	}
	printAuditReport(w, g.env.Stderr, rep, o.json)
	if !rep.OK {
		return &ExitError{Code: ExitFailed}
	}
	return nil
}

// auditVerify GETs the verify report; a 409 carries a report, not an
// error envelope, so it is decoded here rather than by do.
func (c *apiClient) auditVerify(ctx context.Context) (audit.Report, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/audit/verify", nil)
	if err != nil {
		return audit.Report{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return audit.Report{}, bulwark.Errorf(bulwark.EUNAVAILABLE, "server %s: %v", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return audit.Report{}, err
	}
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusConflict {
		var rep audit.Report
		if err := json.Unmarshal(data, &rep); err != nil {
			return audit.Report{}, fmt.Errorf("decode audit report: %w", err)
		}
		return rep, nil
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil && e.Error.Code != "" {
		return audit.Report{}, &bulwark.Error{Code: e.Error.Code, Message: e.Error.Message}
	}
	return audit.Report{}, bulwark.Errorf(bulwark.EINTERNAL, "server %s: GET /api/v1/audit/verify: %s", c.base, resp.Status)
}
