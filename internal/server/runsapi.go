package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/approval"
	"github.com/bulwarkhq/bulwark/internal/drill"
	"github.com/bulwarkhq/bulwark/internal/i18n"
	"github.com/bulwarkhq/bulwark/internal/report"
)

// defaultApprovalValidity is how long an approval lasts when the approver
// gives no window.
const defaultApprovalValidity = 4 * time.Hour

func (s *Server) runRoutes(mux *http.ServeMux) {
	if s.RunStore == nil {
		return
	}
	mux.HandleFunc("POST /api/v1/runs", s.handler(s.postRun))
	mux.HandleFunc("GET /api/v1/runs/{id}", s.handler(s.getRun))
	mux.HandleFunc("GET /api/v1/runs/{id}/events", s.handler(s.runEvents))
	mux.HandleFunc("GET /api/v1/runs/{id}/report", s.handler(s.runReport))
	mux.HandleFunc("POST /api/v1/runs/{id}/approve", s.handler(s.approveRun))
}

// runView is what the run endpoints answer.
type runView struct {
	Submission *pendingRun  `json:"submission,omitempty"`
	Run        *bulwark.Run `json:"run,omitempty"`
}

// postRun takes a drill file (YAML body; ?name= names it in messages),
// plans it against the connected agents, and asks the policy gate: 201 and
// the run when it started, 202 when it waits for an approval (naming
// whom), 403 with the reasons when refused.
func (s *Server) postRun(w http.ResponseWriter, r *http.Request) error {
	p, err := s.principal(r)
	if err != nil {
		return err
	}
	if err := s.Auth.AllowedSomewhere(r.Context(), p, bulwark.RoleOperator); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "drill.yaml"
	}
	pr, err := s.runs.submit(r.Context(), p, name, body)
	if err != nil {
		return err
	}
	s.record(r.Context(), p, "run.submit", "run/"+pr.ID, map[string]string{"drillSha256": pr.SHA256, "state": pr.State}, "ok", "")
	switch pr.State {
	case SubmissionStarted:
		writeJSON(w, http.StatusCreated, runView{Submission: pr})
	case SubmissionAwaitingApproval:
		writeJSON(w, http.StatusAccepted, runView{Submission: pr})
	default:
		return bulwark.Errorf(bulwark.EFORBIDDEN, "policy refused the run: %v", pr.Reasons)
	}
	return nil
}

// findRun returns the submission (if the server holds it) and the stored
// run (if it started), after checking the caller may view it.
func (s *Server) findRun(r *http.Request) (runView, error) {
	id := r.PathValue("id")
	var v runView
	if pr, ok := s.runs.get(id); ok {
		v.Submission = pr
		id = pr.RunID
	}
	if id != "" {
		run, err := s.RunStore.FindRunByID(r.Context(), id)
		if err != nil && (v.Submission == nil || bulwark.ErrorCode(err) != bulwark.ENOTFOUND) {
			return v, err
		}
		v.Run = run
	}
	sys, env := "", ""
	switch {
	case v.Run != nil:
		sys, env = v.Run.System, v.Run.Environment
	case v.Submission != nil:
		sys, env = v.Submission.System, v.Submission.Environment
	}
	if _, err := s.allow(r, bulwark.RoleViewer, bulwark.Resource{System: sys, Environment: env}); err != nil {
		return v, err
	}
	return v, nil
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) error {
	v, err := s.findRun(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) runEvents(w http.ResponseWriter, r *http.Request) error {
	v, err := s.findRun(r)
	if err != nil {
		return err
	}
	if v.Run == nil {
		writeJSON(w, http.StatusOK, map[string]any{"events": []any{}})
		return nil
	}
	events, err := s.RunStore.Events(r.Context(), v.Run.ID, 0)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": events})
	return nil
}

// runReport answers the stored report in ?format=json|html|md|junit and
// ?lang= (default from Accept-Language, else zh-CN).
func (s *Server) runReport(w http.ResponseWriter, r *http.Request) error {
	v, err := s.findRun(r)
	if err != nil {
		return err
	}
	if v.Run == nil || v.Run.State != bulwark.RunFinished {
		return bulwark.Errorf(bulwark.ECONFLICT, "the run has not finished; its report comes when it has")
	}
	if v.Submission != nil {
		// The run is finished in the store a moment before its reports are:
		// wait for the runner to store them.
		select {
		case <-v.Submission.done:
		case <-r.Context().Done():
			return r.Context().Err()
		}
	}
	format := bulwark.ReportFormat(r.URL.Query().Get("format"))
	if format == "" {
		format = bulwark.ReportJSON
	}
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		lang = acceptLanguage(r)
	}
	if lang, err = i18n.Parse(lang); err != nil {
		return bulwark.Errorf(bulwark.EINVALID, "lang: %v", err)
	}
	if format == bulwark.ReportJUnit {
		lang = ""
	}
	rep, err := s.RunStore.Report(r.Context(), v.Run.ID, format, lang)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentTypeOf(format))
	_, _ = w.Write(rep.Body)
	return nil
}

func acceptLanguage(r *http.Request) string {
	al := r.Header.Get("Accept-Language")
	if len(al) >= 2 && (al[:2] == "en") {
		return i18n.EN
	}
	return i18n.ZH
}

func contentTypeOf(f bulwark.ReportFormat) string {
	switch f {
	case bulwark.ReportHTML:
		return "text/html; charset=utf-8"
	case bulwark.ReportMarkdown:
		return "text/markdown; charset=utf-8"
	case bulwark.ReportJUnit:
		return "application/xml"
	}
	return "application/json"
}

// approveRequest is the body of POST /api/v1/runs/{id}/approve.
type approveRequest struct {
	ValidFor bulwark.Duration `json:"validFor,omitempty"`
}

// approveRun records the caller's approval of a waiting run (bound to its
// drill's SHA-256, environment and ticket, for a window), then asks the
// gate again; when the approvals now suffice, the run starts.
func (s *Server) approveRun(w http.ResponseWriter, r *http.Request) error {
	p, err := s.principal(r)
	if err != nil {
		return err
	}
	var req approveRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
	}
	pr, ok := s.runs.get(r.PathValue("id"))
	if !ok {
		return bulwark.Errorf(bulwark.ENOTFOUND, "no run submission %q", r.PathValue("id"))
	}
	if pr.State != SubmissionAwaitingApproval {
		return bulwark.Errorf(bulwark.ECONFLICT, "run %s is %s, not awaiting approval", pr.ID, pr.State)
	}
	if s.Approvals == nil {
		return bulwark.Errorf(bulwark.EUNAVAILABLE, "this server keeps no approvals")
	}
	validFor := time.Duration(req.ValidFor)
	if validFor <= 0 {
		validFor = defaultApprovalValidity
	}
	now := s.Now().UTC()
	a := &approval.Approval{DrillSHA256: pr.SHA256, Environment: pr.Environment, Ticket: pr.Ticket,
		ValidFrom: now, ValidUntil: now.Add(validFor), Approver: p, Submitter: pr.Submitter.ID}
	if err := a.Validate(); err != nil {
		s.record(r.Context(), p, "run.approve", "run/"+pr.ID, a, "denied", bulwark.ErrorMessage(err))
		return bulwark.Errorf(bulwark.EFORBIDDEN, "%s", bulwark.ErrorMessage(err))
	}
	d, err := drill.Parse(pr.name, pr.data)
	if err != nil {
		return err
	}
	if planned := plannedDuration(d); validFor < planned {
		msg := fmt.Sprintf("validFor: %s does not cover the run's planned %s (an approval must hold until the run ends)", validFor, planned)
		s.record(r.Context(), p, "run.approve", "run/"+pr.ID, a, "denied", msg)
		return bulwark.Errorf(bulwark.EINVALID, "%s", msg)
	}
	if len(pr.targets) == 0 {
		// Loaded after a restart: resolve its hosts again, now, so that
		// the approver is checked against them.
		if err := s.runs.resolve(r.Context(), pr, d); err != nil {
			return err
		}
	}
	if err := s.checkApprover(r.Context(), p, pr); err != nil {
		s.record(r.Context(), p, "run.approve", "run/"+pr.ID, a, "denied", bulwark.ErrorMessage(err))
		return err
	}
	if err := s.Approvals.CreateApproval(r.Context(), a); err != nil {
		return err
	}
	s.record(r.Context(), p, "run.approve", "run/"+pr.ID, a, "ok", "")
	if err := s.runs.gateAndStart(r.Context(), pr, d); err != nil {
		return err
	}
	code := http.StatusOK
	if pr.State == SubmissionStarted {
		code = http.StatusCreated
	}
	writeJSON(w, code, runView{Submission: pr})
	return nil
}

// checkApprover refuses an approval from someone who does not hold the
// approver role on every system the run selects (DESIGN §6.5), so that a
// useless approval is never stored.
func (s *Server) checkApprover(ctx context.Context, p bulwark.Principal, pr *pendingRun) error {
	for _, t := range pr.targets {
		res := bulwark.Resource{System: t.System.Name, Team: t.System.OwnerTeam, Environment: t.Environment.Name}
		if err := s.Auth.Allowed(ctx, p, bulwark.RoleApprover, res); err != nil {
			return err
		}
	}
	return nil
}

// storeReports renders the finished run's reports in every format and
// language and stores them, for GET /api/v1/runs/{id}/report.
func (s *Server) storeReports(ctx context.Context, runID string, in *report.Input) {
	put := func(f bulwark.ReportFormat, lang string) {
		var buf bytes.Buffer
		if err := report.Render(&buf, in, f, lang); err != nil {
			s.Logger.Error("render report", "run", runID, "format", f, "err", err)
			return
		}
		if err := s.RunStore.PutReport(ctx, &bulwark.Report{RunID: runID, Format: f, Lang: lang, Body: buf.Bytes()}); err != nil {
			s.Logger.Error("store report", "run", runID, "format", f, "err", err)
		}
	}
	for _, f := range []bulwark.ReportFormat{bulwark.ReportJSON, bulwark.ReportHTML, bulwark.ReportMarkdown} {
		for _, lang := range i18n.Langs() {
			put(f, lang)
		}
	}
	put(bulwark.ReportJUnit, "")
}
